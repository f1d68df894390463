//! Bounds on the numbers a user gives on the command line, checked when the arguments are
//! parsed, so an absurd value is refused at once instead of running for hours or exhausting
//! memory.

/// The most threads any command starts: far more than any machine's cores, far fewer than
/// what exhausts the process table.
pub const MAX_THREADS: usize = 1024;

/// The highest polynomial degree `--degree` accepts: the chooser's own families stay well
/// below it, and the evaluation cost grows with it.
pub const MAX_DEGREE: usize = 1023;

/// `--threads`: 1 ..= [`MAX_THREADS`].
pub fn parse_threads(text: &str) -> Result<usize, String> {
    parse_bounded(text, 1, MAX_THREADS)
}

/// `--degree`: 1 ..= [`MAX_DEGREE`].
pub fn parse_degree(text: &str) -> Result<usize, String> {
    parse_bounded(text, 1, MAX_DEGREE)
}

/// A count of images (`--limit`): at least 1.
pub fn parse_count(text: &str) -> Result<usize, String> {
    match parse_bounded(text, 1, usize::MAX) {
        Err(_) if text == "0" => Err("must be at least 1".into()),
        other => other,
    }
}

fn parse_bounded(text: &str, min: usize, max: usize) -> Result<usize, String> {
    let value: usize = text
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if !(min..=max).contains(&value) {
        return Err(format!("{value} is outside {min}..={max}"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced() {
        assert_eq!(parse_threads("4"), Ok(4));
        assert!(parse_threads("0").is_err());
        assert!(parse_threads("100000").is_err());
        assert!(parse_threads("x").is_err());
        assert_eq!(parse_degree("1023"), Ok(1023));
        assert!(parse_degree("100000").is_err());
    }
}

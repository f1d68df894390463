//! A cursor over one line of IR text, with the lexical pieces the grammar is made of
//! (identifiers, numbers, strings, `%N` values) and the parsers of the sub-forms that other
//! modules reuse: scales, types and recipe selectors.

use crate::entity::Value;
use crate::recipe::{Recipe, Selector};
use crate::scale::Scale;
use crate::types::{Type, ValueKind};

/// Value numbers above this are refused, so a typo cannot make the parser allocate hundreds of
/// megabytes for the value table (4M values is far beyond any model we compile).
pub const MAX_VALUE_NUMBER: u32 = 1 << 22;

/// A number token: integers stay exact, anything with `.` or an exponent is a float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An integer literal.
    Int(i64),
    /// A floating-point literal.
    Float(f64),
}

/// A position in a line of text.
pub struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn skip_ws(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// The unread text (after white space).
    pub fn rest(&mut self) -> &'a str {
        self.skip_ws();
        &self.text[self.pos..]
    }

    fn found(&mut self) -> String {
        let rest = self.rest();
        if rest.is_empty() {
            "end of line".to_string()
        } else {
            format!("`{}`", rest.chars().take(24).collect::<String>())
        }
    }

    /// True when only white space is left.
    pub fn at_end(&mut self) -> bool {
        self.rest().is_empty()
    }

    /// Fails unless only white space is left.
    pub fn expect_end(&mut self) -> Result<(), String> {
        if self.at_end() {
            Ok(())
        } else {
            Err(format!("unexpected {}", self.found()))
        }
    }

    /// Consumes `token` if it comes next.
    pub fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// Consumes `token` or fails naming what was found instead.
    pub fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(format!("expected `{token}`, found {}", self.found()))
        }
    }

    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c: char| !pred(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// An identifier `[A-Za-z_][A-Za-z0-9_]*`.
    pub fn ident(&mut self) -> Result<&'a str, String> {
        let rest = self.rest();
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return Err(format!("expected a name, found {}", self.found()));
        }
        Ok(self.take_while(|c| c.is_ascii_alphanumeric() || c == '_'))
    }

    /// The identifier `word`.
    pub fn keyword(&mut self, word: &str) -> Result<(), String> {
        let start = self.pos;
        match self.ident() {
            Ok(w) if w == word => Ok(()),
            _ => {
                self.pos = start;
                Err(format!("expected `{word}`, found {}", self.found()))
            }
        }
    }

    /// `key=` for the given key.
    pub fn key(&mut self, key: &str) -> Result<(), String> {
        self.keyword(key)?;
        self.expect("=")
    }

    /// A number literal (optional `-`, digits, optional fraction and exponent).
    pub fn number(&mut self) -> Result<Number, String> {
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let mut len = usize::from(bytes.first() == Some(&b'-'));
        let digits = |from: usize| {
            bytes[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let int_digits = digits(len);
        if int_digits == 0 {
            return Err(format!("expected a number, found {}", self.found()));
        }
        len += int_digits;
        let mut float = false;
        if bytes.get(len) == Some(&b'.') && digits(len + 1) > 0 {
            len += 1 + digits(len + 1);
            float = true;
        }
        if matches!(bytes.get(len), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(bytes.get(len + 1), Some(b'-' | b'+')));
            if digits(len + 1 + sign) > 0 {
                len += 1 + sign + digits(len + 1 + sign);
                float = true;
            }
        }
        let token = &rest[..len];
        self.pos += len;
        if float {
            match token.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Number::Float(x)),
                _ => Err(format!("number `{token}` is out of range")),
            }
        } else {
            token
                .parse()
                .map(Number::Int)
                .map_err(|_| format!("integer `{token}` out of range"))
        }
    }

    /// An integer that fits `T`.
    pub fn int<T: TryFrom<i64>>(&mut self) -> Result<T, String> {
        match self.number()? {
            Number::Int(i) => T::try_from(i).map_err(|_| format!("integer {i} out of range")),
            Number::Float(x) => Err(format!("expected an integer, found {x:?}")),
        }
    }

    /// A real number (an integer literal is accepted too).
    pub fn real(&mut self) -> Result<f64, String> {
        Ok(match self.number()? {
            Number::Int(i) => i as f64,
            Number::Float(x) => x,
        })
    }

    /// A double-quoted string with Rust's escapes (`\"`, `\\`, `\n`, `\r`, `\t`, `\0`, `\'`,
    /// `\u{…}`), as `{:?}` prints it.
    pub fn string(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return Err(format!("expected a quoted string, found {}", self.found()));
        }
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => {
                    let escaped = match chars.next().map(|(_, e)| e) {
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('0') => '\0',
                        Some(e @ ('\\' | '"' | '\'')) => e,
                        Some('u') => {
                            let hex: String = chars
                                .by_ref()
                                .map(|(_, h)| h)
                                .take_while(|&h| h != '}')
                                .collect();
                            let code = hex
                                .strip_prefix('{')
                                .and_then(|h| u32::from_str_radix(h, 16).ok());
                            code.and_then(char::from_u32)
                                .ok_or_else(|| format!("invalid escape `\\u{hex}}}`"))?
                        }
                        other => {
                            return Err(format!(
                                "invalid escape `\\{}`",
                                other.map(String::from).unwrap_or_default()
                            ));
                        }
                    };
                    out.push(escaped);
                }
                c => out.push(c),
            }
        }
        Err("unterminated string".to_string())
    }

    /// A value `%N`.
    pub fn value(&mut self) -> Result<Value, String> {
        if !self.eat("%") {
            return Err(format!("expected a value `%N`, found {}", self.found()));
        }
        let n: u32 = self.int()?;
        if n > MAX_VALUE_NUMBER {
            return Err(format!(
                "value number {n} is too large (at most {MAX_VALUE_NUMBER})"
            ));
        }
        Ok(Value::with_number(n))
    }

    /// A scale (see [`Scale`]): factors `1`, `2`, `2^e`, `qI`, `qI^k` joined by `*` and `/`.
    pub fn scale(&mut self) -> Result<Scale, String> {
        let mut scale = Scale::one();
        let mut divide = false;
        loop {
            let factor = self.scale_factor()?;
            let factor = if divide { invert(&factor)? } else { factor };
            scale = scale
                .checked_mul(&factor)
                .ok_or("scale exponent out of range")?;
            if self.eat("*") {
                divide = false;
            } else if self.eat("/") {
                divide = true;
            } else {
                return Ok(scale);
            }
        }
    }

    fn power(&mut self) -> Result<i32, String> {
        if self.eat("^") { self.int() } else { Ok(1) }
    }

    fn scale_factor(&mut self) -> Result<Scale, String> {
        if self.rest().starts_with('q') {
            let name = self.ident()?;
            let index: u32 = name[1..]
                .parse()
                .map_err(|_| format!("expected a chain prime `qI`, found `{name}`"))?;
            return Ok(Scale::one().with_prime(index, self.power()?));
        }
        match self.int::<i64>() {
            Ok(1) => Ok(Scale::one()),
            Ok(2) => Ok(Scale::pow2(self.power()?)),
            _ => Err("expected a scale factor `1`, `2^e` or `qI^k`".to_string()),
        }
    }

    /// A type `ct<l=L, s=S, n=N>` or `pt<…>`.
    pub fn ty(&mut self) -> Result<Type, String> {
        let kind = match self.ident()? {
            "ct" => ValueKind::Cipher,
            "pt" => ValueKind::Plain,
            other => {
                return Err(format!(
                    "expected a type `ct<…>` or `pt<…>`, found `{other}`"
                ));
            }
        };
        self.expect("<")?;
        let (level, scale) = self.level_scale()?;
        self.expect(",")?;
        self.key("n")?;
        let slots = self.int()?;
        self.expect(">")?;
        Ok(Type {
            kind,
            level,
            scale,
            slots,
        })
    }

    /// `l=L, s=S`, the level and scale shared by types and the bootstrapping line.
    pub fn level_scale(&mut self) -> Result<(u32, Scale), String> {
        self.key("l")?;
        let level = self.int()?;
        self.expect(",")?;
        self.key("s")?;
        Ok((level, self.scale()?))
    }

    /// A selector value: integer, float, `true`/`false`, string or `[…]` list.
    pub fn selector(&mut self) -> Result<Selector, String> {
        let rest = self.rest();
        if rest.starts_with('"') {
            return self.string().map(Selector::Str);
        }
        if self.eat("[") {
            return self.list(Self::selector).map(Selector::List);
        }
        if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return match self.ident()? {
                "true" => Ok(Selector::Bool(true)),
                "false" => Ok(Selector::Bool(false)),
                other => Err(format!("expected a selector value, found `{other}`")),
            };
        }
        Ok(match self.number()? {
            Number::Int(i) => Selector::Int(i),
            Number::Float(x) => Selector::Float(x),
        })
    }

    /// The items of a list whose `[` was consumed, up to and including `]`.
    pub fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut items = Vec::new();
        if self.eat("]") {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat("]") {
                return Ok(items);
            }
            self.expect(",")?;
        }
    }

    /// A rotation key `k@cap` of the `keys` line: offset and highest level served.
    pub fn capped_offset(&mut self) -> Result<(i32, u32), String> {
        let offset = self.int()?;
        self.expect("@")?;
        Ok((offset, self.int()?))
    }

    /// A key's level cap, or `none` when the key is not generated.
    pub fn level_cap(&mut self) -> Result<Option<u32>, String> {
        if self.rest().starts_with("none") {
            self.keyword("none")?;
            return Ok(None);
        }
        self.int().map(Some)
    }

    /// A recipe: a quoted source and optional `{key=value, …}` selectors.
    pub fn recipe(&mut self) -> Result<Recipe, String> {
        let mut recipe = Recipe::new(self.string()?);
        if self.eat("{") && !self.eat("}") {
            loop {
                let key = self.ident()?.to_string();
                self.expect("=")?;
                let value = self.selector()?;
                if recipe.selectors.insert(key.clone(), value).is_some() {
                    return Err(format!("selector `{key}` given twice"));
                }
                if self.eat("}") {
                    break;
                }
                self.expect(",")?;
            }
        }
        Ok(recipe)
    }
}

fn invert(scale: &Scale) -> Result<Scale, String> {
    let mut inverse = Scale::pow2(
        scale
            .pow2_exponent()
            .checked_neg()
            .ok_or("scale exponent out of range")?,
    );
    for (index, k) in scale.prime_exponents() {
        inverse = inverse.with_prime(index, k.checked_neg().ok_or("scale exponent out of range")?);
    }
    Ok(inverse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(Cursor::new("-12").number().unwrap(), Number::Int(-12));
        assert_eq!(Cursor::new("0.5").number().unwrap(), Number::Float(0.5));
        assert_eq!(Cursor::new("1e-7,").number().unwrap(), Number::Float(1e-7));
        assert!(Cursor::new("abc").number().is_err());
        assert!(
            Cursor::new("1e999")
                .number()
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            Cursor::new("99999999999999999999")
                .number()
                .unwrap_err()
                .contains("out of range")
        );
    }

    #[test]
    fn strings_with_escapes() {
        let text = format!("{:?}", "a \"b\"\n\\ é \u{7f}");
        assert_eq!(Cursor::new(&text).string().unwrap(), "a \"b\"\n\\ é \u{7f}");
        assert!(Cursor::new("\"open").string().is_err());
        assert!(Cursor::new("\"\\u{zz}\"").string().is_err());
    }

    #[test]
    fn selectors() {
        let mut c = Cursor::new("[1, -2.5, true, \"m\", []]");
        let value = c.selector().unwrap();
        assert_eq!(value.to_string(), "[1, -2.5, true, \"m\", []]");
    }
}

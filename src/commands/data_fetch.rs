//! `fhec data fetch [DIR]`: download the full CIFAR-10 binary set into a data directory.
//!
//! The archive (`cifar-10-binary.tar.gz`, 163 MiB) comes from its official address and is
//! checked against its published md5 before anything is unpacked. It is written to
//! `DIR/cifar-10-binary.tar.gz.part` as it arrives, so an interrupted download resumes where it
//! stopped (HTTP `Range`) when the command runs again; a corrupt one is deleted. The batches
//! land in `DIR/cifar10/` (each written beside its place and renamed), and the shipped
//! ResNet-20 weights are copied to `DIR/resnet20/`, so DIR is a complete data directory for
//! `--data DIR` or `FHEC_DATA=DIR`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use fhec_compiler::data::{DataDir, DataOrigin, shipped_sample_dir};
use md5::{Digest, Md5};

use super::files::{read_chunks, write_atomically};
use super::progress;

/// The official address of the CIFAR-10 binary archive.
pub const CIFAR10_URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/// Its published md5.
pub const CIFAR10_MD5: &str = "c32a1d4ab5d03f1284b67883e8d87530";
/// The archive's folder of batches.
const ARCHIVE_FOLDER: &str = "cifar-10-batches-bin";

/// The `fhec data` subcommands.
#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// Download the CIFAR-10 binary set (checksum checked, resumable) into DIR.
    Fetch(FetchArgs),
}

/// Arguments of `fhec data`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DataCommand,
}

/// Arguments of `fhec data fetch`.
#[derive(clap::Args)]
pub struct FetchArgs {
    /// The data directory to fill [default: $FHEC_DATA, else ./fhec-data].
    dir: Option<PathBuf>,
    /// Download from this address instead (a mirror).
    #[arg(long, default_value = CIFAR10_URL)]
    url: String,
    /// The md5 the archive must have.
    #[arg(long, default_value = CIFAR10_MD5)]
    md5: String,
}

/// Runs a `fhec data` subcommand.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        DataCommand::Fetch(fetch) => run_fetch(fetch),
    }
}

fn run_fetch(args: FetchArgs) -> anyhow::Result<()> {
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::var_os(fhec_compiler::data::DATA_ENV_VAR)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from("fhec-data"), PathBuf::from)
    });
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("{}: cannot create the directory", dir.display()))?;
    let part = dir.join("cifar-10-binary.tar.gz.part");
    download(&args.url, &part)?;
    let digest = md5_hex(&part)?;
    if !digest.eq_ignore_ascii_case(&args.md5) {
        let _ = std::fs::remove_file(&part);
        bail!(
            "{}: md5 {digest}, expected {}: the download is corrupt (deleted; run again)",
            args.url,
            args.md5
        );
    }
    let unpacked = unpack(&part, &dir.join("cifar10"))?;
    std::fs::remove_file(&part).with_context(|| format!("{}: cannot remove", part.display()))?;
    copy_shipped_weights(&dir.join("resnet20"))?;
    let data = DataDir {
        path: dir.clone(),
        origin: DataOrigin::Flag,
    };
    println!(
        "{}: {unpacked} files unpacked into cifar10/ ({} test images), the shipped weights in \
         resnet20/; use it with --data {} or FHEC_DATA={}",
        dir.display(),
        data.test_images(),
        dir.display(),
        dir.display()
    );
    Ok(())
}

/// Downloads `url` into `part`, continuing after the bytes already there.
fn download(url: &str, part: &Path) -> anyhow::Result<()> {
    let have = std::fs::metadata(part).map_or(0, |m| m.len());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = request.call().map_err(|error| {
        anyhow::anyhow!("cannot download {url}: {error} (no network, or the server is down?)")
    })?;
    let status = response.status().as_u16();
    let (append, offset) = match status {
        206 => (true, have),
        200 => (false, 0),
        // Nothing left after `have` bytes: the file is complete (the checksum decides).
        416 if have > 0 => return Ok(()),
        _ => bail!("cannot download {url}: the server answered HTTP {status}"),
    };
    let length = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(part)
        .with_context(|| format!("{}: cannot write", part.display()))?;
    let bar = progress::bytes(length.map(|l| l + offset), "downloading CIFAR-10")?;
    bar.set_position(offset);
    if append {
        eprintln!("resuming {url} after {offset} bytes");
    }
    let mut body = response.into_body().into_reader();
    let mut buffer = vec![0; 1 << 16];
    let mut received = 0u64;
    let mut broken = None;
    loop {
        match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => {
                file.write_all(&buffer[..read])
                    .with_context(|| format!("{}: cannot write", part.display()))?;
                received += read as u64;
                bar.inc(read as u64);
            }
            Err(error) => {
                broken = Some(error);
                break;
            }
        }
    }
    bar.finish_and_clear();
    let short = length.is_some_and(|length| received < length);
    if short || broken.is_some() {
        let expected = length.map_or_else(String::new, |l| format!(" of {}", offset + l));
        let reason = broken.map_or_else(|| "connection closed".to_owned(), |e| e.to_string());
        bail!(
            "{url}: download interrupted after {}{expected} bytes ({reason}); run again to \
             resume",
            offset + received
        );
    }
    Ok(())
}

/// The md5 of a file, hex.
fn md5_hex(path: &Path) -> anyhow::Result<String> {
    let mut hasher = Md5::new();
    read_chunks(path, |chunk| hasher.update(chunk))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Unpacks the batches (`.bin`) and `batches.meta.txt` of the archive's folder into `into`;
/// returns how many files it wrote.
fn unpack(archive: &Path, into: &Path) -> anyhow::Result<usize> {
    let file =
        File::open(archive).with_context(|| format!("{}: cannot read", archive.display()))?;
    let bad = |error: std::io::Error| {
        anyhow::anyhow!(
            "{}: not a readable .tar.gz archive: {error}",
            archive.display()
        )
    };
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    std::fs::create_dir_all(into)
        .with_context(|| format!("{}: cannot create the directory", into.display()))?;
    let mut written = 0;
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
            continue;
        };
        let name = name.to_string_lossy().into_owned();
        let wanted = name.ends_with(".bin") || name == "batches.meta.txt";
        if folder != Path::new(ARCHIVE_FOLDER) || !wanted {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(bad)?;
        write_atomically(&into.join(&name), &bytes)?;
        written += 1;
    }
    if written == 0 {
        bail!(
            "{}: no {ARCHIVE_FOLDER}/*.bin in the archive",
            archive.display()
        );
    }
    Ok(written)
}

/// Copies the shipped weights, ONNX graph and licence into `into` (not the sample's reference
/// logits, which cover only its 100 images), keeping files already there.
fn copy_shipped_weights(into: &Path) -> anyhow::Result<()> {
    let from = shipped_sample_dir().join("resnet20");
    std::fs::create_dir_all(into)
        .with_context(|| format!("{}: cannot create the directory", into.display()))?;
    let entries =
        std::fs::read_dir(&from).with_context(|| format!("{}: cannot read", from.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("{}: cannot read", from.display()))?
            .path();
        let Some(name) = path.file_name() else {
            continue;
        };
        if name == "test_logits_f32.bin" || into.join(name).exists() {
            continue;
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        write_atomically(&into.join(name), &bytes)?;
    }
    Ok(())
}

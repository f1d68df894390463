//! `fhec data fetch`: end to end against a local HTTP server on 127.0.0.1 (a std thread with
//! `Range` support) serving a small CIFAR-10-shaped archive made here: a good download
//! unpacks a usable data directory, a bad checksum is refused and the download deleted, a
//! server that is down gives one clear line, and an interrupted download resumes from where it
//! stopped. The real address is never contacted.

mod cli_common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use cli_common::{failure, fhec, success};
use md5::{Digest, Md5};

/// A CIFAR-10 binary archive: `cifar-10-batches-bin/` with a 5-image test batch, a 3-image
/// training batch, the class names and a file that is not unpacked.
fn archive() -> (Vec<u8>, Vec<u8>) {
    let batch = |images: usize, seed: usize| -> Vec<u8> {
        let mut bytes = Vec::new();
        for image in 0..images {
            bytes.push(((image + seed) % 10) as u8);
            bytes.extend((0..3072).map(|p| ((p * 31 + image * 97 + seed) % 251) as u8));
        }
        bytes
    };
    let test = batch(5, 1);
    let names = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";
    let files: [(&str, Vec<u8>); 4] = [
        ("cifar-10-batches-bin/data_batch_1.bin", batch(3, 7)),
        ("cifar-10-batches-bin/test_batch.bin", test.clone()),
        ("cifar-10-batches-bin/batches.meta.txt", names.into()),
        (
            "cifar-10-batches-bin/readme.html",
            b"<html></html>".to_vec(),
        ),
    ];
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(encoder);
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, bytes.as_slice())
            .unwrap();
    }
    (tar.into_inner().unwrap().finish().unwrap(), test)
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A local HTTP server of one file; records each request's `Range` header. When `cut` is set,
/// the first response announces the whole file but the connection closes after that many
/// bytes.
struct Server {
    address: SocketAddr,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
}

impl Server {
    fn start(file: Vec<u8>, cut: Option<usize>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let ranges = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&ranges);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let first = seen.lock().unwrap().is_empty();
                let range = serve(stream, &file, if first { cut } else { None });
                seen.lock().unwrap().push(range);
            }
        });
        Server { address, ranges }
    }

    fn url(&self) -> String {
        format!("http://{}/cifar-10-binary.tar.gz", self.address)
    }
}

/// Answers one request; returns its `Range` header.
fn serve(mut stream: TcpStream, file: &[u8], cut: Option<usize>) -> Option<String> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        request.push(byte[0]);
    }
    let request = String::from_utf8_lossy(&request).into_owned();
    let range = request
        .lines()
        .find_map(|l| {
            l.strip_prefix("range: ")
                .or_else(|| l.strip_prefix("Range: "))
        })
        .map(str::to_owned);
    let start = range.as_deref().and_then(|r| {
        r.strip_prefix("bytes=")?
            .strip_suffix('-')?
            .parse::<usize>()
            .ok()
    });
    let total = file.len();
    let (head, body) = match start {
        Some(start) if start < total => (
            format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{total}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                total - 1,
                total - start
            ),
            &file[start..],
        ),
        Some(_) => (
            format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            ),
            &file[..0],
        ),
        None => (
            format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"),
            &file[..cut.unwrap_or(total)],
        ),
    };
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
    range
}

fn fetch(dir: &Path, url: &str, md5: &str) -> std::process::Output {
    fhec(&[
        "data",
        "fetch",
        dir.to_str().unwrap(),
        "--url",
        url,
        "--md5",
        md5,
    ])
}

#[test]
fn a_good_download_unpacks_a_usable_data_directory() {
    let (archive, test_batch) = archive();
    let server = Server::start(archive.clone(), None);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = success(&fetch(&data, &server.url(), &md5_hex(&archive)));
    assert!(out.contains("(5 test images)"), "{out}");
    assert_eq!(
        std::fs::read(data.join("cifar10/test_batch.bin")).unwrap(),
        test_batch
    );
    assert!(data.join("cifar10/data_batch_1.bin").is_file());
    assert!(data.join("cifar10/batches.meta.txt").is_file());
    assert!(!data.join("cifar10/readme.html").exists());
    assert!(!data.join("cifar-10-binary.tar.gz.part").exists());
    assert!(
        data.join("resnet20/LICENSE.pytorch-cifar-models.txt")
            .is_file()
    );
    assert_eq!(server.ranges.lock().unwrap().as_slice(), &[None]);
    // The directory works as a data directory for the shipped model.
    let report = success(&fhec(&[
        "plain",
        "models/resnet20.ron",
        "--data",
        data.to_str().unwrap(),
    ]));
    assert!(report.contains(r#""images": 5"#), "{report}");
}

#[test]
fn a_bad_checksum_is_refused_and_the_download_deleted() {
    let (archive, _) = archive();
    let server = Server::start(archive, None);
    let dir = tempfile::tempdir().unwrap();
    let message = failure(&fetch(dir.path(), &server.url(), &"0".repeat(32)));
    assert!(
        message.contains("md5")
            && message.contains("expected 000000")
            && message.contains("corrupt"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(!dir.path().join("cifar-10-binary.tar.gz.part").exists());
    assert!(!dir.path().join("cifar10").exists());
}

#[test]
fn a_server_that_is_down_gives_one_clear_line() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{address}/cifar-10-binary.tar.gz");
    let message = failure(&fetch(dir.path(), &url, &"0".repeat(32)));
    assert!(
        message.starts_with(&format!("error: cannot download {url}"))
            && message.contains("no network"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn an_interrupted_download_resumes_where_it_stopped() {
    let (archive, test_batch) = archive();
    let cut = archive.len() / 2;
    let server = Server::start(archive.clone(), Some(cut));
    let dir = tempfile::tempdir().unwrap();
    let md5 = md5_hex(&archive);
    let message = failure(&fetch(dir.path(), &server.url(), &md5));
    assert!(
        message.contains(&format!(
            "interrupted after {cut} of {} bytes",
            archive.len()
        )) && message.contains("run again to resume"),
        "{message}"
    );
    let part = dir.path().join("cifar-10-binary.tar.gz.part");
    assert_eq!(std::fs::read(&part).unwrap(), archive[..cut]);

    let resumed = fetch(dir.path(), &server.url(), &md5);
    success(&resumed);
    assert!(
        String::from_utf8_lossy(&resumed.stderr)
            .contains(&format!("resuming {} after {cut} bytes", server.url())),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(
        server.ranges.lock().unwrap().as_slice(),
        &[None, Some(format!("bytes={cut}-"))]
    );
    assert_eq!(
        std::fs::read(dir.path().join("cifar10/test_batch.bin")).unwrap(),
        test_batch
    );
}

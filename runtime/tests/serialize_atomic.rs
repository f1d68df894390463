//! Writing files: atomic replacement (a failed write leaves the old file and no temporary file),
//! and the rules for secret material (mode 0600 from creation, never inside `public/`, never
//! in `Debug` output).

use std::cell::RefCell;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use fhec_runtime::serialize::{
    Codec, ObjectKind, ParamHash, PayloadError, Problem, Reader, Writer, read_file, write_file,
};

/// What the test object's encoder does.
#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    /// Writes its bytes.
    Succeed,
    /// Writes 300 KiB (more than the I/O buffer, so bytes reach the disk), then fails.
    FailMidway,
    /// Writes 300 KiB, then panics.
    PanicMidway,
}

/// A byte string under a configurable kind (`SECRET` picks the secret-key kind).
struct Blob<const SECRET: bool> {
    bytes: Vec<u8>,
    behaviour: Behaviour,
    /// A directory whose entries the encoder records while it writes.
    watch: Option<PathBuf>,
}

type PublicBlob = Blob<false>;
type SecretBlob = Blob<true>;

impl<const SECRET: bool> Blob<SECRET> {
    fn new(bytes: &[u8]) -> Self {
        Blob {
            bytes: bytes.to_vec(),
            behaviour: Behaviour::Succeed,
            watch: None,
        }
    }

    fn failing(behaviour: Behaviour) -> Self {
        Blob {
            behaviour,
            ..Blob::new(b"never stored")
        }
    }
}

thread_local! {
    /// Modes of the files in the watched directory, seen from inside `encode`.
    static SEEN_MODES: RefCell<Vec<(String, u32)>> = const { RefCell::new(Vec::new()) };
}

impl<const SECRET: bool> Codec for Blob<SECRET> {
    const KIND: ObjectKind = if SECRET {
        ObjectKind::SecretKey
    } else {
        ObjectKind::PublicKey
    };
    const VERSION: u32 = 1;
    type Context = ();

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        if self.behaviour != Behaviour::Succeed {
            w.u64s(&vec![0x0123_4567_89ab_cdef; 300 * 128])?;
            if self.behaviour == Behaviour::PanicMidway {
                panic!("encoder panics midway");
            }
            let reason = "the test asked it to fail".to_string();
            return Err(PayloadError::Invalid {
                what: "blob",
                reason,
            });
        }
        w.bytes(&self.bytes)?;
        if let Some(dir) = &self.watch {
            let modes = fs::read_dir(dir)
                .unwrap()
                .map(|entry| {
                    let entry = entry.unwrap();
                    let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
                    (entry.file_name().to_string_lossy().into_owned(), mode)
                })
                .collect();
            SEEN_MODES.with(|seen| *seen.borrow_mut() = modes);
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'_>, _version: u32, _: &()) -> Result<Self, PayloadError> {
        Ok(Blob::new(&r.bytes(1 << 20)?))
    }
}

fn params() -> ParamHash {
    ParamHash([1; 32])
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_failed_write_leaves_the_old_file_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rot.key");
    write_file(&path, &params(), &PublicBlob::new(b"old contents")).unwrap();
    let old = fs::read(&path).unwrap();

    let error = write_file(
        &path,
        &params(),
        &PublicBlob::failing(Behaviour::FailMidway),
    )
    .expect_err("a failing encoder must fail the write");
    assert!(
        matches!(error.problem(), Problem::EncodeFailed { .. }),
        "{error}"
    );
    assert!(
        error.to_string().starts_with(&path.display().to_string()),
        "{error}"
    );
    assert_eq!(fs::read(&path).unwrap(), old);
    assert_eq!(listing(dir.path()), ["rot.key"]);

    let panicked = catch_unwind(AssertUnwindSafe(|| {
        write_file(
            &path,
            &params(),
            &PublicBlob::failing(Behaviour::PanicMidway),
        )
    }));
    assert!(panicked.is_err());
    assert_eq!(fs::read(&path).unwrap(), old);
    assert_eq!(listing(dir.path()), ["rot.key"]);
    let back: PublicBlob = read_file(&path, &params(), &()).unwrap();
    assert_eq!(back.bytes, b"old contents");
}

#[test]
fn a_failed_rename_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    // A non-empty directory where the file should go: the rename over it fails.
    let target = dir.path().join("in.ct");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep"), b"x").unwrap();
    let error = write_file(&target, &params(), &PublicBlob::new(b"new")).unwrap_err();
    assert!(matches!(error.problem(), Problem::Io { .. }), "{error}");
    assert!(error.to_string().contains("cannot rename"), "{error}");
    assert_eq!(listing(dir.path()), ["in.ct"]);
    assert_eq!(listing(&target), ["keep"]);
}

#[test]
fn a_missing_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent").join("in.ct");
    let error = write_file(&path, &params(), &PublicBlob::new(b"new")).unwrap_err();
    assert_eq!(error.path(), path);
    assert!(
        error.to_string().contains("cannot create a temporary file"),
        "{error}"
    );
}

#[test]
fn secret_files_are_0600_from_creation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.key");
    // An existing, world-readable file is replaced by a private one.
    fs::write(&path, b"stale").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

    let secret = SecretBlob {
        watch: Some(dir.path().to_path_buf()),
        ..SecretBlob::new(b"s")
    };
    write_file(&path, &params(), &secret).unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // While the encoder ran, the temporary file already existed with mode 0600.
    let seen = SEEN_MODES.with(|seen| seen.borrow().clone());
    let temporaries: Vec<_> = seen
        .iter()
        .filter(|(name, _)| name != "secret.key")
        .collect();
    assert_eq!(temporaries.len(), 1, "{seen:?}");
    assert_eq!(temporaries[0].1, 0o600, "{seen:?}");
    let back: SecretBlob = read_file(&path, &params(), &()).unwrap();
    assert_eq!(back.bytes, b"s");
}

#[test]
fn secrets_are_refused_inside_public_directories() {
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("keys").join("public");
    fs::create_dir_all(&public).unwrap();
    let path = public.join("secret.key");
    let error = write_file(&path, &params(), &SecretBlob::new(b"s")).unwrap_err();
    assert!(
        matches!(
            error.problem(),
            Problem::SecretInPublicDir {
                kind: ObjectKind::SecretKey
            }
        ),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("inside a directory named `public`"),
        "{error}"
    );

    // Through a symbolic link to the public directory, too.
    let link = dir.path().join("elsewhere");
    std::os::unix::fs::symlink(&public, &link).unwrap();
    let error =
        write_file(&link.join("secret.key"), &params(), &SecretBlob::new(b"s")).unwrap_err();
    assert!(
        matches!(error.problem(), Problem::SecretInPublicDir { .. }),
        "{error}"
    );
    assert!(listing(&public).is_empty());

    // Public material belongs there.
    write_file(&public.join("pk.key"), &params(), &PublicBlob::new(b"p")).unwrap();
    // And the secret key beside the public directory is fine.
    write_file(
        &dir.path().join("keys/secret.key"),
        &params(),
        &SecretBlob::new(b"s"),
    )
    .unwrap();
}

/// A secret that records the writer's `Debug` output while it is in the writer's buffer.
struct DebugProbe;

impl Codec for DebugProbe {
    const KIND: ObjectKind = ObjectKind::SecretKey;
    const VERSION: u32 = 1;
    type Context = ();

    fn encode(&self, w: &mut Writer<'_>) -> Result<(), PayloadError> {
        w.fixed_bytes(b"TOPSECRET")?;
        w.u64(0xdead_beef)?;
        let shown = format!("{w:?}");
        assert!(
            !shown.contains("TOPSECRET") && !shown.contains("84"),
            "{shown}"
        );
        assert!(!shown.to_lowercase().contains("deadbeef") && !shown.contains("3735928559"));
        assert_eq!(shown, "Writer { position: 17, .. }");
        Ok(())
    }

    fn decode(r: &mut Reader<'_>, _version: u32, _: &()) -> Result<Self, PayloadError> {
        let _ = r.array::<17>()?;
        assert_eq!(format!("{r:?}"), "Reader { remaining: 0, .. }");
        Ok(DebugProbe)
    }
}

#[test]
fn debug_output_never_shows_payload_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.key");
    write_file(&path, &params(), &DebugProbe).unwrap();
    read_file::<DebugProbe>(&path, &params(), &()).unwrap();
}

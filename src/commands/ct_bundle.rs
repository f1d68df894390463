//! Ciphertext bundles as the client and server commands use them: the runtime reads and writes
//! the file (`fhec_runtime::serialize::bundle`, `docs/file-formats.md`); here a bundle is
//! checked against what the command expects before anything is computed from it: the key set
//! of the keys it meets, and exactly the program's input (or output) names, each ciphertext at
//! its IR type (level, slots, scale). Every error names the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::bail;
use fhec_ir::Program;
use fhec_runtime::ciphertext::Ciphertext;
use fhec_runtime::exec::{CkksSetup, check_ciphertext, same_key_set};
use fhec_runtime::serialize::{CiphertextBundle, KeySetTag, read_bundle, write_bundle};

/// Which of a program's values a bundle holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The inputs (`fhec encrypt` writes them, `fhec eval` reads them).
    Inputs,
    /// The outputs (`fhec eval` writes them, `fhec decrypt` reads them).
    Outputs,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Inputs => "inputs",
            Side::Outputs => "outputs",
        }
    }

    /// The program's values of this side: name and IR type.
    fn values(self, program: &Program) -> BTreeMap<String, fhec_ir::Type> {
        let values: Vec<_> = match self {
            Side::Inputs => program.inputs().collect(),
            Side::Outputs => program.outputs().collect(),
        };
        values
            .into_iter()
            .filter_map(|(spec, value)| {
                Some((spec.name.clone(), program.value_type(value)?.clone()))
            })
            .collect()
    }
}

/// Writes `ciphertexts` of the key set `key_set` to `path` (atomically).
pub fn write(
    path: &Path,
    setup: &CkksSetup,
    key_set: KeySetTag,
    ciphertexts: BTreeMap<String, Ciphertext>,
) -> anyhow::Result<()> {
    let bundle = CiphertextBundle {
        key_set,
        ciphertexts,
    };
    Ok(write_bundle(path, setup.context(), &bundle)?)
}

/// Reads the `side` of `program` from `path`, refusing a bundle of another key set than
/// `key_set` (that of `keys`), missing or extra names, or a ciphertext not of its IR type.
pub fn read(
    path: &Path,
    setup: &CkksSetup,
    program: &Program,
    side: Side,
    key_set: KeySetTag,
    keys: &Path,
) -> anyhow::Result<BTreeMap<String, Ciphertext>> {
    let expected = side.values(program);
    // Either side's count: a bundle of the other side gets the clearer message below.
    let count = program.inputs().count() + program.outputs().count();
    let max = u32::try_from(count).unwrap_or(u32::MAX);
    let bundle = read_bundle(path, setup.context(), max)?;
    same_key_set(path, bundle.key_set, keys, key_set)?;
    let shown = path.display();
    let found: BTreeSet<&String> = bundle.ciphertexts.keys().collect();
    let wanted: BTreeSet<&String> = expected.keys().collect();
    if found != wanted {
        let list = |names: &BTreeSet<&String>| {
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let other = match side {
            Side::Inputs => Side::Outputs,
            Side::Outputs => Side::Inputs,
        };
        let other_names: BTreeSet<String> = other.values(program).into_keys().collect();
        if found.iter().all(|name| other_names.contains(*name)) && !found.is_empty() {
            bail!(
                "{shown}: holds the program's {} ({}), not its {} ({})",
                other.name(),
                list(&found),
                side.name(),
                list(&wanted)
            );
        }
        bail!(
            "{shown}: holds ciphertexts {}, the program's {} are {}",
            list(&found),
            side.name(),
            list(&wanted)
        );
    }
    for (name, ct) in &bundle.ciphertexts {
        let what = format!("{shown}[{name}]");
        check_ciphertext(setup, ct, &expected[name], &what)?;
    }
    Ok(bundle.ciphertexts)
}

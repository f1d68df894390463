//! The op table: every operation of the IR declared once.
//!
//! [`define_ops!`] takes one row per op (mnemonic, operand kinds, immediate, result shape,
//! key it needs, result-type rule) grouped by what they are (data, management), and generates the [`Opcode`]
//! enum, its mnemonic table, its shape queries, the result-type dispatch used by the builder and
//! the verifier, and one typed [`Builder`](crate::Builder) method per op. The printer and parser
//! read the same shape queries, so none of them can drift from the table.

use crate::opaque::Opaque;
use crate::recipe::Recipe;
use crate::rules::{self, RuleInput};
use crate::scale::Scale;
use crate::types::Type;
use serde::{Deserialize, Serialize};

/// What an operand must be.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OperandKind {
    /// A ciphertext.
    Cipher,
    /// A plaintext.
    Plain,
    /// Either (only `free`).
    Any,
}

/// How many results an op defines and where their types come from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ResultShape {
    /// No result.
    None,
    /// One result whose type the rule computes from the operands.
    One,
    /// One result whose type the op declares (an input's or a plaintext's encoding level and
    /// scale); the rule only checks it.
    Declared,
    /// One result per rotation offset, all of the same computed type.
    PerOffset,
}

/// The evaluation key an op needs at run time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KeyNeed {
    /// None.
    None,
    /// The relinearisation key (always generated).
    Relinearization,
    /// One rotation key per offset; each must be in the program's key set.
    Rotation,
    /// The conjugation key; the key set must include it.
    Conjugation,
    /// The bootstrapping keys; the program must declare a bootstrapping configuration.
    Bootstrapping,
}

/// The group an op belongs to (management ops are inserted only by dedicated passes).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OpGroup {
    /// Program inputs and outputs.
    Io,
    /// Plaintext recipes.
    Plaintext,
    /// Additions and multiplications.
    Arithmetic,
    /// Slot permutations (key switches).
    Rotation,
    /// Level and scale management and memory: rescale, level_down, bootstrap, free.
    Management,
}

/// The immediate operand shape of an op.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ImmKind {
    /// No immediate.
    None,
    /// A name and a layout ([`IoSpec`]).
    Io,
    /// A plaintext [`Recipe`].
    Recipe,
    /// A real constant encoded at the ciphertext's scale.
    Const,
    /// A real constant encoded at its own scale ([`ScaledConst`]).
    ScaledConst,
    /// A target level.
    Level,
    /// A rotation offset.
    Offset,
    /// Several rotation offsets.
    Offsets,
}

/// Name and slot layout of a program input or output.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct IoSpec {
    /// The name the user refers to (e.g. `image`, `logits`).
    pub name: String,
    /// Where the tensor's elements live in the slots, as the compiler describes it.
    pub layout: Opaque,
}

/// A constant multiplied in after being encoded at `scale` (`mul_const`).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ScaledConst {
    /// The real value (finite).
    pub value: f64,
    /// The scale it is encoded at; the result's scale is the operand's times this.
    pub scale: Scale,
}

/// The immediate operand of one instruction; its variant is the op's [`ImmKind`].
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub enum Immediate {
    /// No immediate (written `Empty` in RON, where `None` is the option keyword).
    #[serde(rename = "Empty")]
    None,
    /// See [`ImmKind::Io`].
    Io(IoSpec),
    /// See [`ImmKind::Recipe`].
    Recipe(Recipe),
    /// See [`ImmKind::Const`].
    Const(f64),
    /// See [`ImmKind::ScaledConst`].
    ScaledConst(ScaledConst),
    /// See [`ImmKind::Level`].
    Level(u32),
    /// See [`ImmKind::Offset`].
    Offset(i32),
    /// See [`ImmKind::Offsets`].
    Offsets(Vec<i32>),
}

impl Immediate {
    /// The shape of this immediate.
    pub fn kind(&self) -> ImmKind {
        match self {
            Immediate::None => ImmKind::None,
            Immediate::Io(_) => ImmKind::Io,
            Immediate::Recipe(_) => ImmKind::Recipe,
            Immediate::Const(_) => ImmKind::Const,
            Immediate::ScaledConst(_) => ImmKind::ScaledConst,
            Immediate::Level(_) => ImmKind::Level,
            Immediate::Offset(_) => ImmKind::Offset,
            Immediate::Offsets(_) => ImmKind::Offsets,
        }
    }

    /// The rotation offsets this immediate carries (none for non-rotations).
    pub fn offsets(&self) -> &[i32] {
        match self {
            Immediate::Offset(k) => std::slice::from_ref(k),
            Immediate::Offsets(ks) => ks,
            _ => &[],
        }
    }
}

/// The result-type rule of an op: from the operand types (already checked for kind and slot
/// count) and the immediate, the result types, or a message saying what is wrong.
pub type Rule = fn(&RuleInput<'_>) -> Result<Vec<Type>, String>;

macro_rules! define_ops {
    ($(
        $(#[doc = $gdoc:literal])*
        $group:ident {
            $(
                $(#[doc = $doc:literal])*
                $name:ident => $method:ident ( $($arg:ident : $akind:ident),* )
                    imm $ikind:ident $( ($iname:ident : $ity:ty) )?,
                    results $results:ident, key $key:ident, rule $rule:path;
            )*
        }
    )*) => {
        /// Every operation of the IR (see the op table in `ops.rs`).
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Opcode {
            $($( $(#[doc = $doc])* $name, )*)*
        }

        impl Opcode {
            /// All opcodes, in table order.
            pub const ALL: &'static [Opcode] = &[$($(Opcode::$name,)*)*];

            /// The mnemonic of the textual form.
            pub fn mnemonic(self) -> &'static str {
                match self { $($(Opcode::$name => stringify!($method),)*)* }
            }

            /// The opcode with this mnemonic.
            pub fn from_mnemonic(text: &str) -> Option<Opcode> {
                match text { $($(stringify!($method) => Some(Opcode::$name),)*)* _ => None }
            }

            /// The table group.
            pub fn group(self) -> OpGroup {
                match self { $($(Opcode::$name => OpGroup::$group,)*)* }
            }

            /// The kinds of the value operands, in order.
            pub fn operands(self) -> &'static [OperandKind] {
                match self { $($(Opcode::$name => &[$(OperandKind::$akind),*],)*)* }
            }

            /// The immediate shape.
            pub fn immediate(self) -> ImmKind {
                match self { $($(Opcode::$name => ImmKind::$ikind,)*)* }
            }

            /// The result shape.
            pub fn results(self) -> ResultShape {
                match self { $($(Opcode::$name => ResultShape::$results,)*)* }
            }

            /// The evaluation key needed.
            pub fn key(self) -> KeyNeed {
                match self { $($(Opcode::$name => KeyNeed::$key,)*)* }
            }

            /// The result-type rule.
            pub fn rule(self) -> Rule {
                match self { $($(Opcode::$name => $rule,)*)* }
            }
        }

        impl crate::builder::Builder {
            $($(
                define_ops!(@method $results, $name, $method, ($($arg),*), $ikind $(($iname : $ity))?, [$($doc)*]);
            )*)*
        }
    };

    (@method None, $name:ident, $method:ident, ($($arg:ident),*), $ikind:ident $(($iname:ident : $ity:ty))?, [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        pub fn $method(&mut self, $($arg: crate::Value,)* $($iname: $ity)?) -> Result<(), crate::BuildError> {
            self.insert(Opcode::$name, vec![$($arg),*], define_ops!(@imm $ikind $($iname)?), None).map(|_| ())
        }
    };
    (@method One, $name:ident, $method:ident, ($($arg:ident),*), $ikind:ident $(($iname:ident : $ity:ty))?, [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        pub fn $method(&mut self, $($arg: crate::Value,)* $($iname: $ity)?) -> Result<crate::Value, crate::BuildError> {
            self.insert(Opcode::$name, vec![$($arg),*], define_ops!(@imm $ikind $($iname)?), None).map(|r| r[0])
        }
    };
    (@method Declared, $name:ident, $method:ident, ($($arg:ident),*), $ikind:ident $(($iname:ident : $ity:ty))?, [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        /// The result's type is given by `ty`.
        pub fn $method(&mut self, $($arg: crate::Value,)* $($iname: $ity,)? ty: Type) -> Result<crate::Value, crate::BuildError> {
            self.insert(Opcode::$name, vec![$($arg),*], define_ops!(@imm $ikind $($iname)?), Some(ty)).map(|r| r[0])
        }
    };
    (@method PerOffset, $name:ident, $method:ident, ($($arg:ident),*), $ikind:ident $(($iname:ident : $ity:ty))?, [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        /// Returns one result per offset, in order.
        pub fn $method(&mut self, $($arg: crate::Value,)* $($iname: $ity)?) -> Result<Vec<crate::Value>, crate::BuildError> {
            self.insert(Opcode::$name, vec![$($arg),*], define_ops!(@imm $ikind $($iname)?), None)
        }
    };
    (@imm None) => { Immediate::None };
    (@imm $ikind:ident $iname:ident) => { Immediate::$ikind($iname) };
}

define_ops! {
    /// Program inputs and outputs.
    Io {
        /// `%r = input "name", "layout"`: an encrypted input of declared type.
        Input => input() imm Io (spec: IoSpec), results Declared, key None, rule rules::declared_cipher;
        /// `output %x, "name", "layout"`: a program result.
        Output => output(x: Cipher) imm Io (spec: IoSpec), results None, key None, rule rules::no_result;
    }
    /// Plaintext recipes.
    Plaintext {
        /// `%p = plain "source" {selectors}`: a plaintext encoded from a recipe at the declared
        /// level and scale.
        Plain => plain() imm Recipe (recipe: Recipe), results Declared, key None, rule rules::declared_plain;
    }
    /// Arithmetic.
    Arithmetic {
        /// `add %a, %b`: equal levels and exactly equal scales.
        Add => add(lhs: Cipher, rhs: Cipher) imm None, results One, key None, rule rules::same_level_and_scale;
        /// `sub %a, %b`: equal levels and exactly equal scales.
        Sub => sub(lhs: Cipher, rhs: Cipher) imm None, results One, key None, rule rules::same_level_and_scale;
        /// `neg %a`.
        Neg => neg(x: Cipher) imm None, results One, key None, rule rules::same_as_operand;
        /// `add_plain %a, %p`: the plaintext at the ciphertext's level and scale.
        AddPlain => add_plain(x: Cipher, p: Plain) imm None, results One, key None, rule rules::same_level_and_scale;
        /// `mul_plain %a, %p`: the plaintext at the ciphertext's level; scales multiply.
        MulPlain => mul_plain(x: Cipher, p: Plain) imm None, results One, key None, rule rules::product;
        /// `mul_const %a, c, s=S`: `c` encoded at scale `S`; scales multiply.
        MulConst => mul_const(x: Cipher) imm ScaledConst (constant: ScaledConst), results One, key None, rule rules::mul_const;
        /// `add_const %a, c`: `c` encoded at the ciphertext's scale.
        AddConst => add_const(x: Cipher) imm Const (value: f64), results One, key None, rule rules::add_const;
        /// `mul %a, %b`: ciphertext product, relinearised; equal levels, scales multiply.
        Mul => mul(lhs: Cipher, rhs: Cipher) imm None, results One, key Relinearization, rule rules::product;
    }
    /// Rotations.
    Rotation {
        /// `rotate %a, k`: slot `i` of the result is slot `i + k` of `%a` (cyclic over `n`).
        Rotate => rotate(x: Cipher) imm Offset (offset: i32), results One, key Rotation, rule rules::rotation;
        /// `%r1, %r2 = rotate_hoisted %a, [k1, k2]`: several rotations of one ciphertext sharing
        /// one key-switch decomposition.
        RotateHoisted => rotate_hoisted(x: Cipher) imm Offsets (offsets: Vec<i32>), results PerOffset, key Rotation, rule rules::rotation;
        /// `conjugate %a`: complex conjugation of every slot.
        Conjugate => conjugate(x: Cipher) imm None, results One, key Conjugation, rule rules::same_as_operand;
    }
    /// Management (inserted only by dedicated passes).
    Management {
        /// `rescale %a`: from level `l ≥ 1` to `l - 1`, scale divided by `q_l`.
        Rescale => rescale(x: Cipher) imm None, results One, key None, rule rules::rescale;
        /// `level_down %a, l=L`: drop primes down to the lower level `L`; the scale is unchanged.
        LevelDown => level_down(x: Cipher) imm Level (level: u32), results One, key None, rule rules::level_down;
        /// `bootstrap %a`: refresh to the level and scale the program's bootstrapping declares.
        Bootstrap => bootstrap(x: Cipher) imm None, results One, key Bootstrapping, rule rules::bootstrap;
        /// `free %a`: the value is dead from here on (the scheduler's memory hint).
        Free => free(x: Any) imm None, results None, key None, rule rules::no_result;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnemonics_round_trip_and_are_unique() {
        for &op in Opcode::ALL {
            assert_eq!(Opcode::from_mnemonic(op.mnemonic()), Some(op));
        }
        assert_eq!(Opcode::Rotate.mnemonic(), "rotate");
        assert_eq!(Opcode::from_mnemonic("relin"), None);
    }

    #[test]
    fn management_ops_have_their_own_group() {
        let management: Vec<_> = Opcode::ALL
            .iter()
            .filter(|op| op.group() == OpGroup::Management)
            .map(|op| op.mnemonic())
            .collect();
        assert_eq!(management, ["rescale", "level_down", "bootstrap", "free"]);
    }
}

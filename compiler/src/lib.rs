//! The fhec compiler: from a model description to an HE IR program (DESIGN §1).

pub mod layout;
pub mod linear;

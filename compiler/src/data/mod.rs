//! Where data lives and how it is read: the data directory rule and the CIFAR-10 loader.

mod cifar;
mod data_dir;

pub use cifar::{CIFAR_IMAGE_SHAPE, CifarBatch, class_names};
pub use data_dir::{
    DATA_ENV_VAR, DataDir, DataDirSearch, DataOrigin, TEST_BATCH, shipped_sample_dir,
};

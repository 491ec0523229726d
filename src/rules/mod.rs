//! Classification rules: pure functions over fetched evidence, one file per cause family.

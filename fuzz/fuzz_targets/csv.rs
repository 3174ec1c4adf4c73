//! The csv door under libFuzzer: see `anomaly_doors::check_csv` for what it must keep.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| anomaly_doors::check_csv(data));

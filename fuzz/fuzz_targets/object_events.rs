//! The object-events door under libFuzzer: see `anomaly_doors::check_object_events` for what it must keep.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| anomaly_doors::check_object_events(data));

//! Entry point of the training web worker's single-threaded build (built by Trunk as a classic worker with a
//! loader shim). The threaded build is `crates/threaded-worker`, started by `www/threads/start.js`.

fn main() {
    anomaly_playground::worker::start();
}

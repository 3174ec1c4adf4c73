//! Entry point of the training web worker (built by Trunk as a worker with a loader shim).

fn main() {
    anomaly_playground::worker::start();
}

//! Times one door on every file of a folder: `cargo run --release -p anomaly-doors --example time_door -- csv DIR`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let check = anomaly_doors::DOORS.iter().find(|(name, _)| *name == args[1]).expect("a door").1;
    let mut times = Vec::new();
    for entry in std::fs::read_dir(&args[2]).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let start = std::time::Instant::now();
        check(&bytes);
        times.push((start.elapsed().as_secs_f64(), bytes.len(), path));
    }
    times.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (t, n, p) in times.iter().take(5) {
        println!("{:.4} s  {n} bytes  {}", t, p.display());
    }
}

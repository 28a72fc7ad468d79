use std::time::Instant;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let store = git_ledger::store::Store::discover(std::path::Path::new(&dir)).unwrap();
    let snap = store.snapshot().unwrap();
    let state = git_ledger::projection::state::State::from_events(snap.events);
    let t = Instant::now();
    let json = serde_json::to_vec(&state).unwrap();
    let tj = t.elapsed();
    let t = Instant::now();
    let back: git_ledger::projection::state::State = serde_json::from_slice(&json).unwrap();
    let dj = t.elapsed();
    let t = Instant::now();
    let mp = rmp_serde::to_vec_named(&state).unwrap();
    let tm = t.elapsed();
    let t = Instant::now();
    let back2: git_ledger::projection::state::State = rmp_serde::from_slice(&mp).unwrap();
    let dm = t.elapsed();
    println!("json {} bytes enc {tj:?} dec {dj:?}; msgpack {} bytes enc {tm:?} dec {dm:?}; {} {}", json.len(), mp.len(), back.tasks.len(), back2.tasks.len());
}

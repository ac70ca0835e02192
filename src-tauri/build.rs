//! Generates the Tauri context (configuration, capabilities, icons) from `tauri.conf.json`.

fn main() {
    tauri_build::build();
}

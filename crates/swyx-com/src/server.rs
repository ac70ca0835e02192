//! The executable of a COM class's local server, read from its registration.

/// Returns the file name of the executable in a `LocalServer32` command line, e.g.
/// `CLMgr.exe` from `"C:\Program Files (x86)\SwyxIt!\CLMgr.exe" /automation`.
///
/// The path may be quoted, or unquoted with spaces in it, which Windows resolves by trying
/// each space as the end of the path. So an unquoted path runs to the first `.exe`, or to the
/// first space when it names no `.exe`.
pub fn image_name(command: &str) -> Option<String> {
    let command = command.trim();
    let path = if let Some(quoted) = command.strip_prefix('"') {
        quoted.split('"').next().unwrap_or_default()
    } else if let Some(end) = command.to_ascii_lowercase().find(".exe") {
        &command[..end + 4]
    } else {
        command.split_whitespace().next().unwrap_or_default()
    };
    let name = path.rsplit(['\\', '/']).next().unwrap_or_default();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_name_from_local_server_commands() {
        fn check(command: &str, expected: Option<&str>) {
            assert_eq!(image_name(command).as_deref(), expected, "{command:?}");
        }
        check(
            r#""C:\Program Files (x86)\SwyxIt!\CLMgr.exe" /automation"#,
            Some("CLMgr.exe"),
        );
        check(
            r"C:\Program Files (x86)\SwyxIt!\CLMgr.exe /automation",
            Some("CLMgr.exe"),
        );
        check(r"C:\PROGRA~2\SWYXIT~1\CLMGR.EXE", Some("CLMGR.EXE"));
        check(r"C:\Tools\server -Embedding", Some("server"));
        check(r"Z:/work/target/srv.exe", Some("srv.exe"));
        check("  ", None);
        check(r#""""#, None);
    }
}

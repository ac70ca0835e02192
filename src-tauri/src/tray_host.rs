//! Finds out whether the desktop can show a tray icon at all.
//!
//! On Linux a tray icon is a StatusNotifierItem, and only a running StatusNotifier watcher
//! (`org.kde.StatusNotifierWatcher` on the session bus) shows it. Creating the icon succeeds
//! without one, so the app asks the bus; without a host it opens its window at start.

/// Whether a tray host is running. Other systems always have a notification area.
#[cfg(target_os = "linux")]
pub async fn available() -> bool {
    match watcher_has_owner().await {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, "cannot ask the session bus for a tray host; assuming none");
            false
        }
    }
}

#[cfg(target_os = "linux")]
async fn watcher_has_owner() -> zbus::Result<bool> {
    name_has_owner("org.kde.StatusNotifierWatcher").await
}

/// Asks the session bus whether some process owns the well-known `name`.
#[cfg(target_os = "linux")]
pub async fn name_has_owner(name: &str) -> zbus::Result<bool> {
    let connection = zbus::Connection::session().await?;
    let bus = zbus::fdo::DBusProxy::new(&connection).await?;
    let name = zbus::names::BusName::try_from(name)?;
    Ok(bus.name_has_owner(name).await?)
}

/// Whether a tray host is running. Other systems always have a notification area.
#[cfg(not(target_os = "linux"))]
pub async fn available() -> bool {
    true
}

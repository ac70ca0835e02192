//! The tray icon: the combined state at a glance, a tooltip with both statuses and a menu.
//!
//! On Linux the icon is a StatusNotifierItem with a D-Bus menu. Hosts do not report clicks on
//! the icon itself there, so the menu's first item opens the window. On Windows a left click
//! opens the window.
//!
//! The Linux backend (libayatana-appindicator 0.5) exports no `ToolTip` property, so the
//! tooltip text also goes to the item's `Title`. KDE Plasma's tray shows the Title as the
//! tooltip when `ToolTipTitle` is empty (plasma-workspace, systemtray `StatusNotifierItem.qml`).
//! NOTE: the tests read the Title over D-Bus; no real panel was checked.

use std::sync::Mutex;

use tauri::image::Image;
use tauri::menu::{
    CheckMenuItem, CheckMenuItemBuilder, Menu, MenuBuilder, MenuEvent, MenuItem, MenuItemBuilder,
    Submenu, SubmenuBuilder,
};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};
use tracing::warn;

use crate::i18n::{text, Language, Text};
use crate::shell::{PauseLength, Shell};
use crate::view::{tray_icon_png, Badge, Tone, UiState};

/// The tray icon's id, which also names its D-Bus object path on Linux.
pub const TRAY_ID: &str = "main";

/// The tray icon and the menu items whose state follows the core.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    // Only Linux changes the menu's structure after the build (see `relabel_pause`).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    menu: Menu<R>,
    open: MenuItem<R>,
    sync: CheckMenuItem<R>,
    pause: Submenu<R>,
    pause_15: MenuItem<R>,
    pause_60: MenuItem<R>,
    pause_tomorrow: MenuItem<R>,
    resume: MenuItem<R>,
    account: MenuItem<R>,
    quit: MenuItem<R>,
    shown: Mutex<Option<TrayContent>>,
}

/// The content the tray shows now, kept to skip updates that change nothing.
#[derive(Clone, PartialEq)]
struct TrayContent {
    tone: Tone,
    badge: Badge,
    tooltip: String,
    sync: bool,
    paused: bool,
    signed_in: bool,
    /// The core has failed: only Open and Quit still do something.
    stopped: bool,
    language: Language,
}

impl<R: Runtime> Tray<R> {
    /// Builds the tray icon with its menu; the first [`Tray::update`] sets the real state.
    pub fn build(app: &AppHandle<R>, shell: &Shell) -> tauri::Result<Tray<R>> {
        let language = Language::current();
        let label = |item| text(language, item);
        let open = MenuItemBuilder::with_id("open", label(Text::Open)).build(app)?;
        let sync = CheckMenuItemBuilder::with_id("sync", label(Text::SyncOn))
            .checked(true)
            .build(app)?;
        let pause_15 =
            MenuItemBuilder::with_id("pause-15", label(Text::Pause15Minutes)).build(app)?;
        let pause_60 = MenuItemBuilder::with_id("pause-60", label(Text::Pause1Hour)).build(app)?;
        let pause_tomorrow =
            MenuItemBuilder::with_id("pause-tomorrow", label(Text::PauseUntilTomorrow))
                .build(app)?;
        let resume = MenuItemBuilder::with_id("resume", label(Text::Resume))
            .enabled(false)
            .build(app)?;
        // Resume sits in the Pause submenu, so the menu's top level keeps its five entries.
        let pause = SubmenuBuilder::with_id(app, "pause", label(Text::Pause))
            .items(&[&pause_15, &pause_60, &pause_tomorrow])
            .separator()
            .items(&[&resume])
            .build()?;
        let account = MenuItemBuilder::with_id("account", label(Text::SignIn)).build(app)?;
        let quit = MenuItemBuilder::with_id("quit", label(Text::Quit)).build(app)?;
        let menu: Menu<R> = MenuBuilder::new(app)
            .items(&[&open])
            .separator()
            .items(&[&sync, &pause])
            .separator()
            .items(&[&account])
            .separator()
            .items(&[&quit])
            .build()?;

        let icon = TrayIconBuilder::with_id(TRAY_ID)
            .icon(Image::from_bytes(tray_icon_png(
                Tone::Offline,
                Badge::None,
            ))?)
            .tooltip("Presence Bridge")
            .menu(&menu)
            .show_menu_on_left_click(false)
            // The tray library writes the icon to a file for the StatusNotifier host. Keep that
            // file in the app's own folder, not in the shared temp folder.
            .temp_dir_path(shell.paths().state_dir.join("tray"))
            .on_menu_event(on_menu_event)
            .on_tray_icon_event(on_icon_event)
            .build(app)?;
        Ok(Tray {
            icon,
            menu,
            open,
            sync,
            pause,
            pause_15,
            pause_60,
            pause_tomorrow,
            resume,
            account,
            quit,
            shown: Mutex::new(None),
        })
    }

    /// Shows the state in the icon, the tooltip and the menu; failures are logged.
    pub fn update(&self, state: &UiState) {
        let view = &state.snapshot.view;
        let next = TrayContent {
            tone: state.tone,
            badge: state.badge,
            tooltip: state.tooltip.clone(),
            sync: view.sync_enabled,
            paused: view.paused_until.is_some(),
            signed_in: state.snapshot.account.is_some(),
            stopped: state.snapshot.stopped,
            language: state.language,
        };
        let mut shown = self
            .shown
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if shown.as_ref() == Some(&next) {
            return;
        }
        if let Err(error) = self.apply(shown.as_ref(), &next) {
            warn!(%error, "tray not updated");
        }
        *shown = Some(next);
    }

    fn apply(&self, before: Option<&TrayContent>, next: &TrayContent) -> tauri::Result<()> {
        let changed = |field: fn(&TrayContent) -> bool| {
            before.is_none_or(|before| field(before) != field(next))
        };
        if before.is_none_or(|before| (before.tone, before.badge) != (next.tone, next.badge)) {
            self.icon.set_icon(Some(Image::from_bytes(tray_icon_png(
                next.tone, next.badge,
            ))?))?;
        }
        if before.is_none_or(|before| before.tooltip != next.tooltip) {
            self.icon.set_tooltip(Some(&next.tooltip))?;
            #[cfg(target_os = "linux")]
            set_item_title(&self.icon, &next.tooltip)?;
        }
        let language_changed = before.is_none_or(|before| before.language != next.language);
        let live = !next.stopped;
        if language_changed || changed(|shown| shown.sync) || changed(|shown| shown.stopped) {
            let sync = if next.sync {
                Text::SyncOn
            } else {
                Text::SyncOff
            };
            self.sync.set_text(text(next.language, sync))?;
            self.sync.set_checked(next.sync)?;
            self.sync.set_enabled(live)?;
            self.account.set_enabled(live)?;
            // As in the window: with sync off there is nothing to pause.
            for item in [&self.pause_15, &self.pause_60, &self.pause_tomorrow] {
                item.set_enabled(next.sync && live)?;
            }
        }
        if changed(|shown| shown.paused) || changed(|shown| shown.stopped) {
            self.resume.set_enabled(next.paused && live)?;
        }
        if language_changed || changed(|shown| shown.signed_in) {
            let account = if next.signed_in {
                Text::SignOut
            } else {
                Text::SignIn
            };
            self.account.set_text(text(next.language, account))?;
        }
        if language_changed {
            let label = |item| text(next.language, item);
            self.open.set_text(label(Text::Open))?;
            self.relabel_pause(label(Text::Pause))?;
            self.pause_15.set_text(label(Text::Pause15Minutes))?;
            self.pause_60.set_text(label(Text::Pause1Hour))?;
            self.pause_tomorrow
                .set_text(label(Text::PauseUntilTomorrow))?;
            self.resume.set_text(label(Text::Resume))?;
            self.quit.set_text(label(Text::Quit))?;
        }
        Ok(())
    }

    /// Sets the Pause submenu's title, on Linux by inserting the submenu again.
    ///
    /// There a submenu's title sits in a box inside its GTK menu item, and muda 0.20's
    /// `set_text` labels only the item itself, so the menu keeps showing the old title. A
    /// submenu inserted again is built from the new text, with its entries.
    fn relabel_pause(&self, title: &str) -> tauri::Result<()> {
        self.pause.set_text(title)?;
        #[cfg(target_os = "linux")]
        {
            let position = self
                .menu
                .items()?
                .iter()
                .position(|item| item.id() == self.pause.id());
            if let Some(position) = position {
                self.menu.remove(&self.pause)?;
                self.menu.insert(&self.pause, position)?;
            }
        }
        Ok(())
    }
}

/// Sets the StatusNotifierItem `Title`, which hosts show in place of a tooltip.
#[cfg(target_os = "linux")]
fn set_item_title<R: Runtime>(icon: &TrayIcon<R>, title: &str) -> tauri::Result<()> {
    let title = title.to_owned();
    icon.with_inner_tray_icon(move |inner| {
        // SAFETY: the pointer is valid while `inner` is, which outlives this closure.
        // `AppIndicator` wraps the indicator's GObject pointer, so a bitwise copy drives the
        // same indicator. `ManuallyDrop` keeps the copy from releasing anything the original
        // owns.
        unsafe {
            let mut indicator = std::mem::ManuallyDrop::new(std::ptr::read(inner.app_indicator()));
            indicator.set_title(&title);
        }
    })
}

fn on_menu_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let shell = app.state::<Shell>();
    let now = chrono::Local::now();
    let result = match event.id().as_ref() {
        "open" => {
            crate::app::show_main_window(app);
            Ok(())
        }
        "sync" => shell.set_sync(!shell.snapshot().view.sync_enabled),
        "pause-15" => shell.pause(PauseLength::Minutes(15), now),
        "pause-60" => shell.pause(PauseLength::Minutes(60), now),
        "pause-tomorrow" => shell.pause(PauseLength::UntilTomorrow, now),
        "resume" => shell.resume(),
        "account" if shell.snapshot().account.is_some() => shell.sign_out(),
        "account" => shell.sign_in(),
        "quit" => {
            crate::app::quit(app.clone());
            Ok(())
        }
        other => {
            warn!(id = other, "unknown tray menu item");
            Ok(())
        }
    };
    if let Err(error) = result {
        warn!(item = event.id().as_ref(), error = %error.detail(), "tray menu action failed");
    }
}

fn on_icon_event<R: Runtime>(tray: &TrayIcon<R>, event: TrayIconEvent) {
    if let TrayIconEvent::Click {
        button: MouseButton::Left,
        button_state: MouseButtonState::Up,
        ..
    } = event
    {
        crate::app::show_main_window(tray.app_handle());
    }
}

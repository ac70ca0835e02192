//! The view model: statuses in words, health per side, warnings and the sync history.

use crate::api::{Health, SwyxStatus, SwyxTarget, SwyxUnavailable, View, Warning};
use crate::labels::{self, health};
use crate::timing;
use crate::{Access, Engine};

impl Engine {
    /// The view model for the window and tray.
    pub fn view(&self) -> View {
        let (teams, teams_label) = match &self.teams.presence {
            Some((presence, lookup)) => (Some(presence.clone()), Some(lookup.label().to_owned())),
            None => (None, None),
        };
        let swyx = self.swyx_status();
        View {
            teams,
            teams_label,
            teams_current: self.teams_current(),
            swyx,
            swyx_label: swyx.map(|status| self.swyx_label(status).to_owned()),
            target: self.current_target(),
            sync_enabled: self.switches.sync,
            teams_to_swyx: self.switches.teams_to_swyx,
            swyx_to_teams: self.switches.swyx_to_teams,
            paused_until: self.switches.paused_until,
            own_session: self.call.own_session,
            override_text: self.call.override_label.map(labels::override_text),
            health_teams: self.teams_health(),
            health_swyx: self.swyx_health(),
            warnings: self.warnings(),
            last_teams_to_swyx: self.record.last_teams_to_swyx.clone(),
            last_swyx_to_teams: self.record.last_swyx_to_teams.clone(),
            poll_interval: self.poll_interval(),
            throttle_count: self.record.throttle_count,
            history: self.record.history.iter().cloned().collect(),
        }
    }

    /// Returns whether the Teams presence held is being read: signed in, read since the last
    /// change that may have made it out of date, and with no failed read since.
    fn teams_current(&self) -> bool {
        self.life.access == Access::SignedIn
            && self.teams.fresh
            && self.teams.degraded.is_none()
            && self.teams.refused.is_none()
    }

    /// Returns the Swyx status as last observed, Speaking while on a call.
    fn swyx_status(&self) -> Option<SwyxStatus> {
        if let Some((SwyxUnavailable::LoggedOff, _, _)) = &self.swyx.unavailable {
            return Some(SwyxStatus::LoggedOff);
        }
        let observation = self.swyx.observation.as_ref()?;
        if observation.speaking {
            return Some(SwyxStatus::Speaking);
        }
        Some(match observation.status {
            crate::SwyxSettable::Available => SwyxStatus::Available,
            crate::SwyxSettable::Away => SwyxStatus::Away,
            crate::SwyxSettable::DoNotDisturb => SwyxStatus::DoNotDisturb,
        })
    }

    /// Returns the Swyx status in words, naming the substitute of a written Speaking target.
    fn swyx_label(&self, status: SwyxStatus) -> &'static str {
        let substitute = self.settings.speaking_substitute;
        let shows_substitute = self
            .swyx
            .observation
            .as_ref()
            .is_some_and(|o| !o.speaking && o.status == substitute);
        if self.swyx.last_applied == Some(SwyxTarget::Speaking) && shows_substitute {
            return labels::speaking_shown_as(substitute);
        }
        labels::swyx_status(status)
    }

    /// Returns the Teams side's health: signed-out, unavailable, degraded, ok, the first that applies.
    fn teams_health(&self) -> Health {
        if self.life.access != Access::SignedIn {
            return Health::SignedOut;
        }
        if let Some((reason, action)) = self.call.refused {
            return Health::Unavailable {
                reason: reason.to_owned(),
                action: action.to_owned(),
            };
        }
        if let Some(reason) = &self.teams.refused {
            return Health::Unavailable {
                reason: reason.clone(),
                action: health::ACTION_CONSENT.to_owned(),
            };
        }
        if let Some(reason) = &self.call.degraded {
            return Health::Degraded {
                reason: reason.clone(),
                next_retry: self.call.retry_at,
            };
        }
        if let Some(reason) = &self.teams.degraded {
            return Health::Degraded {
                reason: reason.clone(),
                next_retry: self.teams.retry_at,
            };
        }
        Health::Ok
    }

    /// The Swyx side's health: unavailable when the user must act, degraded while retrying.
    fn swyx_health(&self) -> Health {
        if !self.swyx.known {
            return Health::Degraded {
                reason: health::SWYX_CONNECTING.to_owned(),
                next_retry: None,
            };
        }
        if let Some((reason, _, reported_at)) = &self.swyx.unavailable {
            let next_retry = Some(*reported_at + timing::SWYX_ATTACH_RETRY);
            let unavailable = |reason: &str, action: &str| Health::Unavailable {
                reason: reason.to_owned(),
                action: action.to_owned(),
            };
            return match reason {
                SwyxUnavailable::NotRunning => {
                    unavailable(health::SWYX_NOT_RUNNING, health::ACTION_START_SWYX)
                }
                SwyxUnavailable::LoggedOff => {
                    unavailable(health::SWYX_LOGGED_OFF, health::ACTION_LOG_ON_SWYX)
                }
                SwyxUnavailable::ServerDown => Health::Degraded {
                    reason: health::SWYX_SERVER_DOWN.to_owned(),
                    next_retry,
                },
                SwyxUnavailable::Detached { reason } => Health::Degraded {
                    reason: format!("{}: {reason}", health::SWYX_DETACHED),
                    next_retry,
                },
            };
        }
        if let Some(reason) = &self.swyx.write_error {
            return Health::Degraded {
                reason: format!("{}: {reason}", health::SWYX_WRITE_FAILED),
                next_retry: self.swyx.retry_at,
            };
        }
        Health::Ok
    }

    fn warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if self.detect.conflict {
            warnings.push(Warning::Conflict);
        }
        if self.detect.shared_writer {
            warnings.push(Warning::SharedWriter);
        }
        if self.switches.identity_mismatch {
            warnings.push(Warning::IdentityMismatch);
        }
        warnings
    }
}

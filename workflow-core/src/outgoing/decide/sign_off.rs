//! 签发: each issuing unit's signature; the last one's date is the 成文日期.

use super::*;
use crate::outgoing::event::EventData;

impl Decide<'_> {
    pub(super) fn sign_off(&self, opinion: &str) -> Result<Vec<EventData>, Error> {
        self.require_state(&[State::AwaitingSignOff])?;
        let unit = self.require_signer()?;
        check_text("opinion", opinion, true)?;
        Ok(vec![EventData::Signed {
            content: self.main_file(),
            unit,
            signer_name: self.actor.name.clone(),
            opinion: opinion.trim().to_owned(),
            date: china_date(self.at),
        }])
    }

    /// The unit the actor signs for, if they may sign now.
    pub(super) fn require_signer(&self) -> Result<UnitCode, Error> {
        let role = self.doc.required_sign_role();
        let has_authority = self.actor.has_role(role)
            || (role == Role::Signatory && self.actor.has_role(Role::PrincipalSignatory));
        if !has_authority {
            return Err(Error::MissingRole {
                actor: self.actor.id.clone(),
                role,
                command: self.name,
            });
        }
        let unit = &self.actor.unit;
        let signing = self.doc.signing_units();
        if !signing.contains(unit) {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!("a {role} of {}", join(&signing)),
            });
        }
        if self.doc.signatures().iter().any(|s| s.unit == *unit) {
            return Err(self.not_now(&format!("unit {unit} has already signed")));
        }
        Ok(unit.clone())
    }
}

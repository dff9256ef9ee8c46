//! The state the screens share: which screen is showing ([`Screen`]), what this visitor typed,
//! scanned and was told ([`Visit`]), and the lead being written ([`Saving`]).

use bevy::prelude::*;
use kiosk_core::badge::Badge;
use kiosk_core::form::{FormError, LeadForm};
use kiosk_core::recorder::Durable;
use protocol::RecordBody;

use crate::kiosk::{Content, Services};

#[derive(States, Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Screen {
    #[default]
    Attract,
    Home,
    Pillar,
    Item,
    /// The lead form with the on-screen keyboard.
    Form,
    /// "Share the contact on your badge?" after a badge scan.
    Badge,
    /// Shown once a lead is durable in the store.
    Thanks,
    /// A host presents a deck to a delegation (entered from the staff overlay).
    Presenter,
}

/// What this visitor typed, scanned and was told. Forgotten when the kiosk returns to the
/// attract loop.
#[derive(Resource, Default)]
pub struct Visit {
    pub form: LeadForm,
    pub errors: Vec<FormError>,
    pub save_failed: bool,
    /// The item the form was opened from.
    pub item: Option<String>,
    /// The badge waiting for the visitor's answer.
    pub badge: Option<Badge>,
    /// The name to thank (None: a thank-you without a name).
    pub thanks_name: Option<String>,
    /// Where "Cancel" and "No" return to.
    pub back_to: Option<Screen>,
}

/// A lead being written, with the name to thank: the thank-you waits for the store to say it
/// is durable.
#[derive(Resource, Default, Deref)]
pub struct Saving(Durable<Option<String>>);

impl Saving {
    /// Writes the visitor's lead; the thank-you (to `name`) follows once it is durable. False,
    /// with nothing written, while another lead is being written (a second tap on Send).
    pub fn lead(
        &self,
        services: &Services,
        content: &Content,
        lead: protocol::record::LeadBody,
        name: Option<String>,
    ) -> bool {
        self.start(
            || {
                services
                    .recorder
                    .record_durable(content.event.as_deref(), RecordBody::Lead(Box::new(lead)))
            },
            name,
        )
    }
}

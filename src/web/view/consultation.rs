//! Consultation pages: a bill's consultations.

use super::{BillRef, Named, Page};
use crate::domain::identity::Role;
use crate::web::errors::AppError;
use crate::web::i18n::Translations;
use crate::web::{App, Ctx};
use serde::Serialize;

/// `/bills/<slug>/consultations`: the consultations of a bill, newest first, and for
/// staff the way to open one.
#[derive(Serialize)]
pub struct Consultations {
    bill: BillRef,
    consultations: Vec<ConsultationItem>,
    staff: bool,
}

#[derive(Serialize)]
struct ConsultationItem {
    id: i64,
    title: String,
    phase: Named,
    opens_on: String,
    closes_on: String,
}

impl Page for Consultations {
    const TEMPLATE: &'static str = "consultations";
    fn title(&self, t: &Translations) -> String {
        t.get("consultations_title").into()
    }
}

pub fn consultations(app: &App, ctx: &Ctx, slug: &str) -> Result<Consultations, AppError> {
    let (bill, _) = app.reader.bill(slug)?;
    let mut conn = app.reader.store().conn()?;
    let consultations = crate::store::consultations::for_bill(&mut conn, bill.id)?
        .into_iter()
        .map(|c| ConsultationItem {
            id: c.id,
            title: c.title,
            phase: Named::new(ctx.lang, "phase", c.phase),
            opens_on: c.opens_on,
            closes_on: c.closes_on,
        })
        .collect();
    Ok(Consultations {
        bill: BillRef::of(&bill),
        consultations,
        staff: ctx.viewer.as_ref().is_some_and(|v| v.has_role(Role::Staff)),
    })
}

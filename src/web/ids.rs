//! Typed ids (`domain::ids`) straight from Rocket path segments and form fields: a route
//! `/consultations/<id>` takes `id: ConsultationId`; a segment that is not a number is
//! not this route (Rocket forwards, which ends in the usual 404), as with `i64` before.

use crate::domain::ids::{
    AccountId, AmendmentId, BillId, CommentId, ConsultationId, ReportId, VerificationId, VersionId,
};
use rocket::form::{self, FromFormField, ValueField};
use rocket::request::FromParam;

macro_rules! web_id {
    ($($t:ty),+ $(,)?) => {$(
        impl<'a> FromParam<'a> for $t {
            type Error = &'a str;

            fn from_param(param: &'a str) -> Result<Self, Self::Error> {
                param.parse().map_err(|_| param)
            }
        }

        impl<'v> FromFormField<'v> for $t {
            fn from_value(field: ValueField<'v>) -> form::Result<'v, Self> {
                Ok(<$t>::new(i64::from_value(field)?))
            }
        }
    )+};
}

web_id!(
    BillId,
    VersionId,
    ConsultationId,
    AmendmentId,
    CommentId,
    AccountId,
    ReportId,
    VerificationId,
);

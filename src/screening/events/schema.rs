//! The audit trail as the OpenAPI document describes it: an event is one of
//! a schema per kind (`CreatedEvent`, `ReviewedEvent`, ...), each holding
//! its kind's data type, so that a generated client reads each kind's data
//! as its own type. The data types are derived; only this envelope, the
//! same for every kind, is put together here.

use std::borrow::Cow;

use strum::VariantArray as _;
use utoipa::openapi::schema::{
    Discriminator, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::{
    Actor, AnswersCorrectedData, CdsFeedbackData, CreatedData, Event, EventKind, ReviewedData,
    ViewedData,
};

type Schemas = Vec<(String, RefOr<Schema>)>;

/// A kind's data type, as documented.
struct DataType {
    name: Cow<'static, str>,
    schema: RefOr<Schema>,
    /// The schemas it refers to.
    refers_to: fn(&mut Schemas),
}

impl DataType {
    fn of<T: ToSchema>() -> DataType {
        DataType {
            name: T::name(),
            schema: T::schema(),
            refers_to: <T as ToSchema>::schemas,
        }
    }

    /// The name of the event schema of this data: `CreatedData` is a
    /// `CreatedEvent`'s.
    fn event(&self) -> String {
        format!(
            "{}Event",
            self.name.strip_suffix("Data").unwrap_or(&self.name)
        )
    }
}

/// The type of each kind's data.
fn data_type(kind: EventKind) -> DataType {
    match kind {
        EventKind::Created => DataType::of::<CreatedData>(),
        EventKind::AnswersCorrected => DataType::of::<AnswersCorrectedData>(),
        EventKind::Reviewed => DataType::of::<ReviewedData>(),
        EventKind::Viewed => DataType::of::<ViewedData>(),
        EventKind::CdsFeedback => DataType::of::<CdsFeedbackData>(),
    }
}

/// An event of `kind`: the fields every event has, its `kind`, and `data`
/// of its kind's type.
fn event_schema(kind: EventKind, data: &DataType) -> Schema {
    let time = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)));
    ObjectBuilder::new()
        .description(Some(format!("A `{}` event.", kind.as_str())))
        .property("seq", i64::schema())
        .required("seq")
        .property(
            "kind",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([kind.as_str()])),
        )
        .required("kind")
        .property("at", time)
        .required("at")
        .property("actor", Ref::from_schema_name(Actor::name()))
        .required("actor")
        .property("data", Ref::from_schema_name(data.name.clone()))
        .required("data")
        .into()
}

const DESCRIPTION: &str = "One entry of a screening's audit trail: its number, when and by whom, \
    and what happened, its `kind` and that kind's `data`. An event an earlier release recorded in \
    a shape this one no longer writes is answered as it was recorded (a `viewed` event with \
    `data` `{}`, CDS feedback from before its items were checked).";

impl PartialSchema for Event {
    fn schema() -> RefOr<Schema> {
        let events: Vec<(EventKind, String)> = EventKind::VARIANTS
            .iter()
            .map(|kind| (*kind, data_type(*kind).event()))
            .collect();
        events
            .iter()
            .fold(OneOfBuilder::new(), |one_of, (_, name)| {
                one_of.item(Ref::from_schema_name(name))
            })
            .description(Some(DESCRIPTION))
            .discriminator(Some(Discriminator::with_mapping(
                "kind",
                events
                    .iter()
                    .map(|(kind, name)| (kind.as_str(), format!("#/components/schemas/{name}"))),
            )))
            .into()
    }
}

impl ToSchema for Event {
    fn schemas(schemas: &mut Schemas) {
        for kind in EventKind::VARIANTS {
            let data = data_type(*kind);
            schemas.push((data.event(), event_schema(*kind, &data).into()));
            (data.refers_to)(schemas);
            schemas.push((data.name.into_owned(), data.schema));
        }
        schemas.push((Actor::name().into_owned(), Actor::schema()));
        <Actor as ToSchema>::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_an_event_schema_named_after_its_data() {
        let mut schemas = Schemas::new();
        <Event as ToSchema>::schemas(&mut schemas);
        let names: Vec<&str> = schemas.iter().map(|(n, _)| n.as_str()).collect();
        for event in [
            "CreatedEvent",
            "AnswersCorrectedEvent",
            "ReviewedEvent",
            "ViewedEvent",
            "CdsFeedbackEvent",
        ] {
            assert!(names.contains(&event), "{names:?}");
        }
    }
}

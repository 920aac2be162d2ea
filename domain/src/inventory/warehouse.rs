//! A warehouse: a place stock is kept, named by a short code that receipts, adjustments
//! and transfers give (`"main"`, `"berlin-2"`). Its `priority` orders where reservations
//! are taken from (higher first). A deactivated warehouse receives nothing more; what it
//! holds can still be counted and moved out.
//!
//! The default warehouse, [`super::DEFAULT_WAREHOUSE`], exists without being created, so
//! clients and logs from before warehouses were an aggregate keep working. It may be
//! created too, to give it a name and a priority.

use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::WarehouseId;
use crate::value::InvalidValue;

/// The longest warehouse code: the stock events' warehouse names are at most 64 long.
pub const MAX_WAREHOUSE_CODE: usize = 64;
/// The highest priority a warehouse may have; the default is 0.
pub const MAX_WAREHOUSE_PRIORITY: i32 = 1_000;

/// A warehouse's code: 1 to 64 of lowercase ASCII letters, digits, `.`, `_` and `-`,
/// starting with a letter or digit. Codes are kept as written, so `EAST` is refused rather
/// than silently made `east` (a receipt naming `EAST` would then miss it).
pub fn warehouse_code(raw: &str) -> Result<String, InvalidValue> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_WAREHOUSE_CODE
        && raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && raw.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(InvalidValue {
            field: "code",
            message: "must be 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit".into(),
        })
    }
}

pub struct Warehouse;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateWarehouse {
    pub warehouse_id: WarehouseId,
    pub code: String,
    pub name: String,
    /// ISO 3166-1 alpha-2; stored uppercase.
    pub country: Option<String>,
    pub region: Option<String>,
    /// 0 to [`MAX_WAREHOUSE_PRIORITY`]; reservations take from higher priorities first.
    pub priority: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarehouseCommand {
    Create(CreateWarehouse),
    /// Stops receipts into it; asking again changes nothing.
    Deactivate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum WarehouseEvent {
    WarehouseCreated {
        warehouse_id: WarehouseId,
        code: String,
        name: String,
        country: Option<String>,
        region: Option<String>,
        priority: i32,
    },
    WarehouseDeactivated {
        warehouse_id: WarehouseId,
        code: String,
    },
}

crate::domain_event!(WarehouseEvent {
    WarehouseCreated,
    WarehouseDeactivated,
});
impl Upcast for WarehouseEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarehouseState {
    pub warehouse_id: Option<WarehouseId>,
    pub code: String,
    pub name: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub priority: i32,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarehouseError {
    #[error("the warehouse exists already")]
    AlreadyCreated,
    #[error("no such warehouse")]
    NotCreated,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl From<InvalidValue> for WarehouseError {
    fn from(e: InvalidValue) -> Self {
        WarehouseError::Invalid {
            field: e.field,
            reason: e.message,
        }
    }
}

fn invalid(field: &'static str, reason: &str) -> WarehouseError {
    WarehouseError::Invalid {
        field,
        reason: reason.into(),
    }
}

impl Aggregate for Warehouse {
    const CATEGORY: &'static str = "warehouse";
    type State = WarehouseState;
    type Command = WarehouseCommand;
    type Event = WarehouseEvent;
    type Error = WarehouseError;

    fn decide(
        s: &WarehouseState,
        cmd: &WarehouseCommand,
    ) -> Result<Vec<WarehouseEvent>, WarehouseError> {
        match cmd {
            WarehouseCommand::Create(c) => {
                if s.warehouse_id.is_some() {
                    return Err(WarehouseError::AlreadyCreated);
                }
                let code = warehouse_code(&c.code)?;
                let name = crate::value::line("name", &c.name, 200)?;
                if name.is_empty() {
                    return Err(invalid("name", "must not be blank"));
                }
                let country = match c.country.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(raw) => {
                        let upper = raw.to_ascii_uppercase();
                        if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_uppercase()) {
                            return Err(invalid("country", "must be an ISO 3166-1 alpha-2 code"));
                        }
                        Some(upper)
                    }
                };
                let region = crate::value::optional_line("region", c.region.as_deref(), 100)?;
                if !(0..=MAX_WAREHOUSE_PRIORITY).contains(&c.priority) {
                    return Err(invalid("priority", "must be 0 to 1000"));
                }
                Ok(vec![WarehouseEvent::WarehouseCreated {
                    warehouse_id: c.warehouse_id,
                    code,
                    name,
                    country,
                    region,
                    priority: c.priority,
                }])
            }
            WarehouseCommand::Deactivate => match s.warehouse_id {
                None => Err(WarehouseError::NotCreated),
                Some(_) if !s.active => Ok(vec![]),
                Some(warehouse_id) => Ok(vec![WarehouseEvent::WarehouseDeactivated {
                    warehouse_id,
                    code: s.code.clone(),
                }]),
            },
        }
    }

    fn evolve(mut s: WarehouseState, event: &WarehouseEvent) -> WarehouseState {
        match event {
            WarehouseEvent::WarehouseCreated {
                warehouse_id,
                code,
                name,
                country,
                region,
                priority,
            } => {
                s.warehouse_id = Some(*warehouse_id);
                s.code = code.clone();
                s.name = name.clone();
                s.country = country.clone();
                s.region = region.clone();
                s.priority = *priority;
                s.active = true;
            }
            WarehouseEvent::WarehouseDeactivated { .. } => s.active = false,
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn create(code: &str) -> WarehouseCommand {
        WarehouseCommand::Create(CreateWarehouse {
            warehouse_id: WarehouseId::new(Uuid::from_u128(1)),
            code: code.into(),
            name: " Berlin two ".into(),
            country: Some("de".into()),
            region: None,
            priority: 10,
        })
    }

    #[test]
    fn a_warehouse_is_created_once_and_deactivated_once() {
        let s = WarehouseState::default();
        assert_eq!(
            Warehouse::decide(&s, &WarehouseCommand::Deactivate),
            Err(WarehouseError::NotCreated)
        );
        let events = Warehouse::decide(&s, &create("berlin-2")).unwrap();
        let s = events.iter().fold(s, Warehouse::evolve);
        assert!(s.active);
        assert_eq!(
            (s.name.as_str(), s.country.as_deref()),
            ("Berlin two", Some("DE"))
        );
        assert_eq!(
            Warehouse::decide(&s, &create("berlin-2")),
            Err(WarehouseError::AlreadyCreated)
        );
        let off = Warehouse::decide(&s, &WarehouseCommand::Deactivate).unwrap();
        assert_eq!(off.len(), 1);
        let s = off.iter().fold(s, Warehouse::evolve);
        assert!(!s.active);
        assert_eq!(
            Warehouse::decide(&s, &WarehouseCommand::Deactivate),
            Ok(vec![])
        );
    }

    #[test]
    fn codes_names_countries_and_priorities_are_checked() {
        let s = WarehouseState::default();
        for code in ["", "EAST", "-east", "east side", &"x".repeat(65)] {
            let err = Warehouse::decide(&s, &create(code)).unwrap_err();
            assert!(
                matches!(err, WarehouseError::Invalid { field: "code", .. }),
                "{code:?}: {err:?}"
            );
        }
        for (field, change) in [
            (
                "name",
                CreateWarehouse {
                    name: "  ".into(),
                    ..base()
                },
            ),
            (
                "country",
                CreateWarehouse {
                    country: Some("Germany".into()),
                    ..base()
                },
            ),
            (
                "priority",
                CreateWarehouse {
                    priority: -1,
                    ..base()
                },
            ),
            (
                "priority",
                CreateWarehouse {
                    priority: 1_001,
                    ..base()
                },
            ),
        ] {
            let err = Warehouse::decide(&s, &WarehouseCommand::Create(change)).unwrap_err();
            assert!(
                matches!(err, WarehouseError::Invalid { field: f, .. } if f == field),
                "{field}: {err:?}"
            );
        }
    }

    fn base() -> CreateWarehouse {
        match create("east") {
            WarehouseCommand::Create(c) => c,
            WarehouseCommand::Deactivate => unreachable!(),
        }
    }
}

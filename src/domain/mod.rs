//! Pure types and rules of the quota process: parse, check, compute. No I/O.

pub mod application;
pub mod apportion;
pub mod calendar;
pub mod commission;
pub mod date_ru;
pub mod deadline;
pub mod filing;
pub mod ids;
pub mod limits;
pub mod names;
pub mod quota;
pub mod region;
pub mod signatories;
pub mod states;
pub mod timeline;
pub mod violations;

pub use application::{ApplicationDraft, DemandLine, OccupationCode, WorkerCategory};
pub use deadline::{
    ALMATY_OFFSET_SECS, QuotaYear, almaty, nominal_submission_deadline, submission_deadline,
};
pub use ids::Bin;
pub use region::{RegionCode, Regions};
pub use states::{ApplicationState, Part, QuotaState};
pub use violations::{FieldViolation, Violations};

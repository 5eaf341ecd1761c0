//! Every bound the service puts on input, in one place, with why.

/// List methods (AIP-158): the page size when none is asked for, and the most one page holds.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 500;

/// Lines of one application, proposal or country row; changes of one adjustment.
pub const MAX_LINES: usize = 500;

/// A short text field: a name, a position, an organisation, a source, a legal basis.
pub const MAX_SHORT_TEXT: usize = 500;

/// A long text field: an assessment's or a justification's prose.
pub const MAX_LONG_TEXT: usize = 20_000;

/// The largest head count a form takes in one cell (the country's whole labour force is
/// under ten million).
pub const MAX_FIGURE: u32 = 10_000_000;

/// A request id (idempotency key): a UUID is 36 characters.
pub const MAX_REQUEST_ID: usize = 100;

/// A party's signing session stays open this long (a PIN entry and a CMS, not a day).
pub const SESSION_MINUTES: i64 = 15;

/// Open signing sessions of one document at once.
pub const MAX_OPEN_SESSIONS: i64 = 10;

/// Documents in one batch of party signatures (PrepareSignatures, CompleteSignatures).
pub const MAX_BATCH_SIGNATURES: usize = 500;

// The quota (process::quota, process::publication).

/// The largest head count of the quota's own figures: a region's labour force, a cell of
/// the distribution, a move (ten times the country's labour force keeps typing mistakes
/// out without refusing a real figure).
pub const MAX_PERSONS: u64 = 100_000_000;

/// Years of statistics the ministry may record a labour force for.
pub const STATISTICS_YEARS: std::ops::RangeInclusive<u32> = 2000..=2100;

/// Years one quota covers (p. 5: «на предстоящий (предстоящие) год (годы)»).
pub const MAX_QUOTA_YEARS: usize = 3;

/// Moves of one redistribution (p. 21).
pub const MAX_MOVES: usize = 100;

/// The basis of a move: the proposal it rests on, cited with its letter (p. 21).
pub const MAX_BASIS_TEXT: usize = 2000;

/// The ministry's registration number of an order (p. 19).
pub const MAX_ORDER_NUMBER: usize = 50;

// The Commission and the region's filing (p. 9, 17).

/// Members of one Commission: the bodies of p. 9 and their deputies, with room to spare.
pub const MAX_COMMISSION_MEMBERS: usize = 50;

/// A member's name or position (as long as an employer's head's).
pub const MAX_PERSON_TEXT: usize = 300;

/// A member's role in the Commission: «Председатель», «Секретарь», «Член комиссии».
pub const MAX_ROLE_TEXT: usize = 100;

/// Countries of origin in one region's Appendix 4 (there are fewer treaty countries).
pub const MAX_ORIGIN_COUNTRIES: usize = 200;

// The audit trail (process::audit).

/// Records of one page of the audit trail when none is asked for, and the most one page
/// holds: auditors read it in long runs, so its pages are larger than other lists'.
pub const AUDIT_DEFAULT_PAGE_SIZE: i64 = 100;
pub const AUDIT_MAX_PAGE_SIZE: i64 = 1000;

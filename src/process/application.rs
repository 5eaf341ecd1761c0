//! An employer's application (Appendix 1, p. 6 of the Rules): drafted, edited while a
//! draft, submitted to the region's body by 1 October with its form sealed, withdrawn
//! until the Commission decides; read by the employer, its region and the ministry.

use chrono::{DateTime, Utc};

use super::paging::{self, Page, PageRequest};
use super::{Context, Error, Reason, Result};
use crate::domain::application::ApplicationInput;
use crate::domain::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_REQUEST_ID};
use crate::domain::names::{ApplicationName, DocumentName};
use crate::domain::signatories::kind;
use crate::domain::{
    ApplicationDraft, Bin, QuotaYear, nominal_submission_deadline, submission_deadline,
};
use crate::identity::{Caller, DenialReason, Denied, Role};
use crate::render::appendix1::{self, Appendix1, EmployerKind, Totals, VisibleSignature};
use crate::store::audit::Actor;
use crate::store::{ApplicationRow, ApplicationState, ListFilter};

/// A new draft (CreateApplication).
#[derive(Debug, Clone, Default)]
pub struct NewApplication {
    pub application: ApplicationInput,
    /// The caller's idempotency key (AIP-155); "" for none.
    pub request_id: String,
}

/// A draft's new content (UpdateApplication), against the version the caller read.
#[derive(Debug, Clone)]
pub struct Edit {
    pub name: ApplicationName,
    /// The etag the caller read; "" to overwrite whatever is stored.
    pub etag: String,
    pub application: ApplicationInput,
}

/// Which applications to list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub quota_year: Option<i64>,
    pub region_code: Option<String>,
    pub employer_bin: Option<String>,
    pub state: Option<ApplicationState>,
    pub page: PageRequest,
}

/// The request id, trimmed, if one was given: a UUID fits, a page of text does not.
fn request_id(raw: &str) -> Result<Option<&str>> {
    let rid = raw.trim();
    if rid.is_empty() {
        return Ok(None);
    }
    if rid.len() > MAX_REQUEST_ID || rid.chars().any(|c| c.is_control()) {
        return Err(Error::invalid_field(
            "request_id",
            format!(
                "request_id must be at most {MAX_REQUEST_ID} printable characters (a UUID is best)"
            ),
        ));
    }
    Ok(Some(rid))
}

/// Parses an application's fields, every bad one named under `application.`.
fn parse(ctx: &Context, input: &ApplicationInput) -> Result<ApplicationDraft> {
    ApplicationDraft::parse(input, "application", &ctx.regions, ctx.now()).map_err(Error::Invalid)
}

/// Stores a new draft for the caller's own organisation. A request id seen before
/// returns the application the first request made.
pub async fn create(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    new: &NewApplication,
) -> Result<ApplicationRow> {
    let request_id = request_id(&new.request_id)?;
    let draft = parse(ctx, &new.application)?;
    caller.require_employer("application.employer.bin", draft.employer_bin.as_str())?;
    let id = uuid::Uuid::new_v4().to_string();
    let app = ctx
        .store
        .create_application(actor, &id, &draft, request_id, ctx.now())
        .await?;
    tracing::info!(application = %app.id, region = %app.region_code, year = app.quota_year, "application created");
    Ok(app)
}

/// PERMISSION_DENIED unless the caller may see this application: the employer its own,
/// a region's body and commission their region's, the ministry every one.
fn may_see(caller: &Caller, app: &ApplicationRow) -> Result<(), Denied> {
    if caller.may_access(&app.employer_bin, &app.region_code) {
        return Ok(());
    }
    Err(Denied::new(
        DenialReason::NotParty,
        format!(
            "{} {} may not see {}",
            caller.role,
            caller.identity(),
            ApplicationName::new(&app.id)
        ),
    ))
}

pub async fn get(ctx: &Context, caller: &Caller, name: &ApplicationName) -> Result<ApplicationRow> {
    let app = ctx.store.get_application(name.id()).await?;
    may_see(caller, &app)?;
    Ok(app)
}

/// Narrows a filter to what the caller may see: an employer its own applications, a
/// regional body or commission its region's; asking for another's is refused.
fn scoped(caller: &Caller, mut filter: ListFilter) -> Result<ListFilter, Denied> {
    match caller.role {
        Role::Employer => {
            if let Some(asked) = &filter.employer_bin {
                caller.require_employer("employer_bin", asked)?;
            }
            filter.employer_bin = Some(
                caller
                    .bin
                    .clone()
                    .or(caller.iin.clone())
                    .unwrap_or_default(),
            );
        }
        Role::RegionalBody | Role::Commission => {
            if let Some(asked) = &filter.region_code {
                caller.require_region("region_code", asked)?;
            }
            filter.region_code = caller.region.clone();
        }
        _ => {}
    }
    Ok(filter)
}

/// Applications in creation order, a page at a time, of those the caller may see.
pub async fn list(ctx: &Context, caller: &Caller, q: &ListQuery) -> Result<Page<ApplicationRow>> {
    let limit = paging::size("page_size", q.page.size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    if let Some(bin) = &q.employer_bin {
        Bin::parse(bin).map_err(|e| Error::invalid_field("employer_bin", e.to_string()))?;
    }
    let filter = scoped(
        caller,
        ListFilter {
            quota_year: q.quota_year,
            region_code: q.region_code.clone(),
            employer_bin: q.employer_bin.clone(),
            state: q.state,
        },
    )?;
    // The token is bound to the filter as scoped, so it cannot widen what a caller sees.
    let fingerprint = format!("{filter:?}");
    let after = paging::decode("page_token", &q.page.token, &fingerprint)?;
    // One more than the page tells whether another page follows.
    let rows = ctx
        .store
        .list_applications(&filter, after, limit + 1)
        .await?;
    Ok(Page::cut(rows, limit, after, &fingerprint, |a| a.seq))
}

/// Replaces a draft's content if the caller's etag is current; only its employer edits
/// it, and only for itself.
pub async fn update(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    edit: &Edit,
) -> Result<ApplicationRow> {
    let draft = parse(ctx, &edit.application)?;
    let stored = ctx.store.get_application(edit.name.id()).await?;
    caller.require_employer("application.name", &stored.employer_bin)?;
    caller.require_employer("application.employer.bin", draft.employer_bin.as_str())?;
    Ok(ctx
        .store
        .update_application(actor, edit.name.id(), &edit.etag, &draft, ctx.now())
        .await?)
}

/// p. 6: FAILED_PRECONDITION once the day after the last day has begun: 1 October of the
/// year before the quota year, or later when 30 September is a day off (Civil Code
/// art. 172). The calendar is read only once the nominal deadline has passed.
fn check_deadline(ctx: &Context, app: &ApplicationRow, now: DateTime<Utc>) -> Result<()> {
    let year = QuotaYear::from_stored(app.quota_year);
    if now < nominal_submission_deadline(year) {
        return Ok(());
    }
    let deadline = submission_deadline(year, &ctx.calendar());
    if now < deadline {
        return Ok(());
    }
    let shown = deadline.format("%d.%m.%Y %H:%M (UTC+5)");
    Err(Error::refused(
        Reason::SubmissionDeadlinePassed,
        format!(
            "applications for {} are accepted until {shown} (p. 6 of the Rules: до 1 октября; a last day that is a day off moves to the next working day); the deadline has passed",
            app.quota_year
        ),
    )
    .with("deadline", deadline.to_rfc3339())
    .with("quota_year", app.quota_year.to_string()))
}

/// The filled Appendix 1 of an application: addressed to `addressee` (the region's body
/// by its legal name) in `region_name_ru`, with the seal's visible `signature`.
fn appendix1_model(
    app: &ApplicationRow,
    region_name_ru: &str,
    addressee: &str,
    signature: VisibleSignature,
) -> Appendix1 {
    let rows = appendix1::rows(app.lines.iter().map(|l| appendix1::LineInput {
        occupation_code: &l.occupation_code,
        occupation_name: &l.occupation_name,
        category: l.category,
        current_count: l.current_count,
        requested_count: l.requested_count,
    }));
    // The form labels the number ИИН for an individual entrepreneur, БИН otherwise.
    let kind = EmployerKind::of(&app.employer_bin);
    Appendix1 {
        quota_year: app.quota_year,
        addressee: addressee.to_owned(),
        region_name_ru: region_name_ru.to_owned(),
        employer: appendix1::Employer {
            name: app.employer_name.clone(),
            legal_address: app.employer_address.clone(),
            bin: app.employer_bin.clone(),
            kind,
        },
        totals: Totals::from_rows(&rows),
        rows,
        justification: app.justification.clone(),
        head_position: app.head_position.clone(),
        head_full_name: app.head_full_name.clone(),
        signature,
    }
}

/// p. 6: submits a draft to the region's body before the deadline, its Appendix 1
/// rendered and sealed. The etag read before sealing guards against a change made
/// meanwhile.
pub async fn submit(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    name: &ApplicationName,
    etag: &str,
) -> Result<ApplicationRow> {
    let now = ctx.now();
    let (app, names) = ctx.store.check_submittable(name.id(), etag).await?;
    caller.require_employer("name", &app.employer_bin)?;
    check_deadline(ctx, &app, now)?;
    // The application is addressed to the region's body by its legal name (its profile).
    let (region_name, addressee) = match names {
        Some(names) => names,
        None => ctx.store.region_and_body_names(&app.region_code).await?,
    };
    let document = DocumentName::new(uuid::Uuid::new_v4().to_string());
    let signature = ctx.sealer.visible_signature(&document.to_string(), now);
    let model = appendix1_model(&app, &region_name, &addressee, signature);
    let title = appendix1::document_title(model.quota_year);
    let data =
        serde_json::to_value(&model).map_err(|e| Error::internal("Appendix 1's model", e))?;
    let sealer = ctx.sealer.clone();
    let (document_id, subject) = (document.id().to_owned(), name.to_string());
    let code = super::issue::new_code()?;
    let started = std::time::Instant::now();
    let issued = crate::sealing::on_core(move || {
        sealer.issue(
            &document_id,
            &code,
            appendix1::TEMPLATE,
            &data,
            kind::APPENDIX_1,
            &title,
            &subject,
            now,
        )
    })
    .await
    .map_err(|e| Error::internal("sealing task", e))?
    .map_err(|e| Error::internal("rendering and sealing Appendix 1", format!("{e:#}")))?;
    tracing::info!(
        application = %name,
        document = %document,
        bytes = issued.pdf.len(),
        millis = started.elapsed().as_millis() as u64,
        "Appendix 1 rendered and sealed"
    );
    Ok(ctx
        .store
        .submit_application(actor, &app, &issued, now)
        .await?)
}

/// Withdraws a draft or a submitted application before the Commission decides; only its
/// employer does.
pub async fn withdraw(
    ctx: &Context,
    caller: &Caller,
    actor: &Actor,
    name: &ApplicationName,
    etag: &str,
) -> Result<ApplicationRow> {
    let stored = ctx.store.get_application(name.id()).await?;
    caller.require_employer("name", &stored.employer_bin)?;
    Ok(ctx
        .store
        .withdraw_application(actor, name.id(), etag, ctx.now())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WorkerCategory;
    use crate::store::LineRow;

    /// The sample form, filled from an application with the sample's values.
    #[test]
    fn the_model_of_an_application_is_the_sample_form() {
        let sample: Appendix1 =
            serde_json::from_str(include_str!("../../templates/sample/appendix1.json")).unwrap();
        let now = Utc::now();
        let app = ApplicationRow {
            id: "a-1".into(),
            seq: 1,
            quota_year: sample.quota_year,
            region_code: "110000000".into(),
            employer_bin: sample.employer.bin.clone(),
            employer_name: sample.employer.name.clone(),
            employer_address: sample.employer.legal_address.clone(),
            justification: sample.justification.clone(),
            head_position: sample.head_position.clone(),
            head_full_name: sample.head_full_name.clone(),
            state: ApplicationState::Draft,
            revision: 1,
            etag: String::new(),
            create_time: now,
            update_time: now,
            submit_time: None,
            document_id: None,
            lines: sample
                .rows
                .iter()
                .map(|r| LineRow {
                    occupation_code: r.occupation_code.clone(),
                    occupation_name: r.occupation_name.clone(),
                    category: WorkerCategory::from_code(&r.category).unwrap(),
                    current_count: r.current_count,
                    requested_count: r.requested_count,
                })
                .collect(),
        };
        let model = appendix1_model(
            &app,
            &sample.region_name_ru,
            &sample.addressee,
            sample.signature.clone(),
        );
        assert_eq!(model, sample);
    }

    #[test]
    fn request_ids_are_bounded_and_printable() {
        assert_eq!(request_id("  ").unwrap(), None);
        assert_eq!(request_id(" ab-1 ").unwrap(), Some("ab-1"));
        assert!(request_id(&"x".repeat(MAX_REQUEST_ID + 1)).is_err());
        assert!(request_id("a\u{7}b").is_err());
    }
}

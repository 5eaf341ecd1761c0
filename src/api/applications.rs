//! `EmployerApplicationService`: employers' applications, Appendix 1 (p. 6 of the Rules).

use std::collections::HashMap;

use crate::auth::{Caller, Role};
use tonic::{Code, Request, Response, Status};

use super::error::{self, invalid, invalid_field};
use super::pb::{self, employer_application_service_server::EmployerApplicationService};
use super::{AppState, page_size, page_token, resource_id, timestamp};
use crate::domain::application::{ApplicationInput, LineInput};
use crate::domain::{
    ApplicationDraft, Bin, QuotaYear, WorkerCategory, nominal_submission_deadline,
    submission_deadline,
};
use crate::store::{ApplicationRow, ApplicationState, ListFilter};

pub struct Applications(pub AppState);

pub(crate) fn category_from_pb(v: i32) -> Option<WorkerCategory> {
    use pb::WorkerCategory as C;
    match C::try_from(v).ok()? {
        C::Unspecified => None,
        C::First => Some(WorkerCategory::First),
        C::Second => Some(WorkerCategory::Second),
        C::Third => Some(WorkerCategory::Third),
        C::Fourth => Some(WorkerCategory::Fourth),
        C::Seasonal => Some(WorkerCategory::Seasonal),
    }
}

pub(crate) fn category_to_pb(c: WorkerCategory) -> pb::WorkerCategory {
    use pb::WorkerCategory as C;
    match c {
        WorkerCategory::First => C::First,
        WorkerCategory::Second => C::Second,
        WorkerCategory::Third => C::Third,
        WorkerCategory::Fourth => C::Fourth,
        WorkerCategory::Seasonal => C::Seasonal,
    }
}

fn state_to_pb(s: ApplicationState) -> pb::application::State {
    use pb::application::State as S;
    match s {
        ApplicationState::Draft => S::Draft,
        ApplicationState::Submitted => S::Submitted,
        ApplicationState::Withdrawn => S::Withdrawn,
    }
}

fn input_from_pb(a: &pb::Application) -> ApplicationInput {
    let employer = a.employer.clone().unwrap_or_default();
    ApplicationInput {
        quota_year: a.quota_year,
        region_code: a.region_code.clone(),
        employer_bin: employer.bin,
        employer_name: employer.name,
        employer_legal_address: employer.legal_address,
        lines: a
            .lines
            .iter()
            .map(|l| LineInput {
                occupation_code: l.occupation_code.clone(),
                occupation_name: l.occupation_name.clone(),
                category: category_from_pb(l.category),
                current_count: l.current_count,
                requested_count: l.requested_count,
            })
            .collect(),
        justification: a.justification.clone(),
        head_position: a.head_position.clone(),
        head_full_name: a.head_full_name.clone(),
    }
}

pub(crate) fn to_pb(a: ApplicationRow) -> pb::Application {
    pb::Application {
        name: format!("applications/{}", a.id),
        quota_year: a.quota_year as u32,
        region_code: a.region_code,
        employer: Some(pb::Employer {
            bin: a.employer_bin,
            name: a.employer_name,
            legal_address: a.employer_address,
        }),
        lines: a
            .lines
            .into_iter()
            .map(|l| pb::DemandLine {
                occupation_code: l.occupation_code,
                occupation_name: l.occupation_name,
                category: category_to_pb(l.category) as i32,
                current_count: l.current_count,
                requested_count: l.requested_count,
            })
            .collect(),
        justification: a.justification,
        head_position: a.head_position,
        head_full_name: a.head_full_name,
        state: state_to_pb(a.state) as i32,
        etag: a.etag,
        create_time: Some(timestamp(a.create_time)),
        update_time: Some(timestamp(a.update_time)),
        submit_time: a.submit_time.map(timestamp),
        document: a
            .document_id
            .map(|d| format!("documents/{d}"))
            .unwrap_or_default(),
    }
}

impl Applications {
    fn parse(&self, a: &pb::Application) -> Result<ApplicationDraft, Status> {
        let codes = &self.0.region_codes;
        ApplicationDraft::parse(
            &input_from_pb(a),
            "application",
            |k| codes.iter().any(|c| c == k),
            self.0.now(),
        )
        .map_err(invalid)
    }
}

/// p. 6: FAILED_PRECONDITION once the day after the last day has begun: 1 October of the
/// year before the quota year, or later when 30 September is a day off (Civil Code
/// art. 172). The calendar is read only once the nominal deadline has passed.
async fn check_deadline(
    state: &AppState,
    app: &ApplicationRow,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Status> {
    let year = QuotaYear::from_stored(app.quota_year);
    if now < nominal_submission_deadline(year) {
        return Ok(());
    }
    let calendar = state.calendar();
    let deadline = submission_deadline(year, &calendar);
    if now >= deadline {
        let shown = deadline.format("%d.%m.%Y %H:%M (UTC+5)").to_string();
        return Err(error::status_with(
            Code::FailedPrecondition,
            "SUBMISSION_DEADLINE_PASSED",
            format!(
                "applications for {} are accepted until {shown} (p. 6 of the Rules: до 1 октября; a last day that is a day off moves to the next working day); the deadline has passed",
                app.quota_year
            ),
            HashMap::from([
                ("deadline".to_string(), deadline.to_rfc3339()),
                ("quota_year".to_string(), app.quota_year.to_string()),
            ]),
        ));
    }
    Ok(())
}

/// PERMISSION_DENIED unless the caller may see this application.
fn may_see(caller: &Caller, app: &ApplicationRow) -> Result<(), Status> {
    if caller.may_access(&app.employer_bin, &app.region_code) {
        Ok(())
    } else {
        Err(Status::from(crate::identity::Denied::new(
            crate::identity::DenialReason::NotParty,
            format!(
                "{} {} may not see applications/{}",
                caller.role,
                caller.identity(),
                app.id
            ),
        )))
    }
}

#[tonic::async_trait]
impl EmployerApplicationService for Applications {
    async fn create_application(
        &self,
        request: Request<pb::CreateApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let req = request.into_inner();
        let application = req
            .application
            .ok_or_else(|| invalid_field("application", "application is required"))?;
        let request_id = Some(req.request_id.trim()).filter(|r| !r.is_empty());
        if let Some(rid) = request_id
            && (rid.len() > 100 || rid.chars().any(|c| c.is_control()))
        {
            return Err(invalid_field(
                "request_id",
                "request_id must be at most 100 printable characters (a UUID is best)",
            ));
        }
        let draft = self.parse(&application)?;
        caller.require_employer("application.employer.bin", draft.employer_bin.as_str())?;
        let id = uuid::Uuid::new_v4().to_string();
        let app = self
            .0
            .store
            .create_application(&actor, &id, &draft, request_id, self.0.now())
            .await?;
        tracing::info!(application = %app.id, region = %app.region_code, year = app.quota_year, "application created");
        Ok(Response::new(to_pb(app)))
    }

    async fn get_application(
        &self,
        request: Request<pb::GetApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let caller = super::caller(&request);
        let name = request.into_inner().name;
        let id = resource_id("name", &name, "applications")?;
        let app = self.0.store.get_application(id).await?;
        may_see(&caller, &app)?;
        Ok(Response::new(to_pb(app)))
    }

    async fn list_applications(
        &self,
        request: Request<pb::ListApplicationsRequest>,
    ) -> Result<Response<pb::ListApplicationsResponse>, Status> {
        let caller = super::caller(&request);
        let req = request.into_inner();
        let limit = page_size("page_size", req.page_size)?;
        let employer_bin = Some(req.employer_bin.trim()).filter(|b| !b.is_empty());
        if let Some(bin) = employer_bin {
            Bin::parse(bin).map_err(|e| invalid_field("employer_bin", e.to_string()))?;
        }
        let state = match pb::application::State::try_from(req.state) {
            Ok(pb::application::State::Unspecified) => None,
            Ok(pb::application::State::Draft) => Some(ApplicationState::Draft),
            Ok(pb::application::State::Submitted) => Some(ApplicationState::Submitted),
            Ok(pb::application::State::Withdrawn) => Some(ApplicationState::Withdrawn),
            Err(_) => return Err(invalid_field("state", "unknown state")),
        };
        let mut filter = ListFilter {
            quota_year: (req.quota_year != 0).then_some(i64::from(req.quota_year)),
            region_code: Some(req.region_code.trim().to_owned()).filter(|r| !r.is_empty()),
            employer_bin: employer_bin.map(str::to_owned),
            state,
        };
        // Each caller lists only what it may see: an employer its own applications, a
        // regional body or commission its region's.
        match caller.role {
            Role::Employer => {
                let own = caller
                    .bin
                    .clone()
                    .or(caller.iin.clone())
                    .unwrap_or_default();
                if let Some(asked) = &filter.employer_bin {
                    caller.require_employer("employer_bin", asked)?;
                }
                filter.employer_bin = Some(own);
            }
            Role::RegionalBody | Role::Commission => {
                if let Some(asked) = &filter.region_code {
                    caller.require_region("region_code", asked)?;
                }
                filter.region_code = caller.region.clone();
            }
            _ => {}
        }
        let fingerprint = format!("{filter:?}");
        let after = page_token::decode("page_token", &req.page_token, &fingerprint)?;
        // One more than the page tells whether another page follows.
        let mut apps = self
            .0
            .store
            .list_applications(&filter, after, limit + 1)
            .await?;
        let next_page_token = if apps.len() as i64 > limit {
            apps.truncate(limit as usize);
            page_token::encode(apps.last().map_or(after, |a| a.seq), &fingerprint)
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListApplicationsResponse {
            applications: apps.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_application(
        &self,
        request: Request<pb::UpdateApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let application = request
            .into_inner()
            .application
            .ok_or_else(|| invalid_field("application", "application is required"))?;
        let id = resource_id("application.name", &application.name, "applications")?.to_owned();
        let draft = self.parse(&application)?;
        let stored = self.0.store.get_application(&id).await?;
        caller.require_employer("application.name", &stored.employer_bin)?;
        caller.require_employer("application.employer.bin", draft.employer_bin.as_str())?;
        let app = self
            .0
            .store
            .update_application(&actor, &id, &application.etag, &draft, self.0.now())
            .await?;
        Ok(Response::new(to_pb(app)))
    }

    async fn submit_application(
        &self,
        request: Request<pb::SubmitApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let req = request.into_inner();
        let id = resource_id("name", &req.name, "applications")?;
        let now = self.0.now();
        let app = self.0.store.check_submittable(id, &req.etag).await?;
        caller.require_employer("name", &app.employer_bin)?;
        check_deadline(&self.0, &app, now).await?;
        let mut region = self.0.store.get_region(&app.region_code).await?;
        // The application is addressed to the region's body by its legal name (its profile).
        region.body_name_ru = self.0.store.get_body(&app.region_code).await?.legal_name_ru;
        let sealer = self.0.sealer.clone();
        let stored_etag = app.etag.clone();
        let started = std::time::Instant::now();
        let document = crate::sealing::on_core(move || sealer.issue_appendix1(&app, &region, now))
            .await
            .map_err(|e| error::internal("sealing task", e))?
            .map_err(|e| error::internal("rendering and sealing Appendix 1", e))?;
        tracing::info!(
            application = %id,
            document = %document.id,
            bytes = document.pdf.len(),
            millis = started.elapsed().as_millis() as u64,
            "Appendix 1 rendered and sealed"
        );
        // The etag read before sealing guards against a change made meanwhile.
        let app = self
            .0
            .store
            .submit_application(&actor, id, &stored_etag, &document, now)
            .await?;
        Ok(Response::new(to_pb(app)))
    }

    async fn withdraw_application(
        &self,
        request: Request<pb::WithdrawApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let req = request.into_inner();
        let id = resource_id("name", &req.name, "applications")?;
        let stored = self.0.store.get_application(id).await?;
        caller.require_employer("name", &stored.employer_bin)?;
        let app = self
            .0
            .store
            .withdraw_application(&actor, id, &req.etag, self.0.now())
            .await?;
        Ok(Response::new(to_pb(app)))
    }
}

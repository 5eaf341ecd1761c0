//! `EmployerApplicationService`: employers' applications, Appendix 1 (p. 6 of the Rules).
//! Each handler decodes its request, calls one step of [`crate::process::application`]
//! and encodes the result.

use tonic::{Request, Response, Status};

use super::error::invalid_field;
use super::pb::{self, employer_application_service_server::EmployerApplicationService};
use super::{AppState, timestamp};
use crate::domain::WorkerCategory;
use crate::domain::application::{ApplicationInput, LineInput};
use crate::domain::names::{ApplicationName, DocumentName};
use crate::process::application::{self as process, Edit, ListQuery, NewApplication};
use crate::process::paging::PageRequest;
use crate::store::{ApplicationRow, ApplicationState};

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

fn state_from_pb(v: i32) -> Result<Option<ApplicationState>, Status> {
    use pb::application::State as S;
    match S::try_from(v) {
        Ok(S::Unspecified) => Ok(None),
        Ok(S::Draft) => Ok(Some(ApplicationState::Draft)),
        Ok(S::Submitted) => Ok(Some(ApplicationState::Submitted)),
        Ok(S::Withdrawn) => Ok(Some(ApplicationState::Withdrawn)),
        Err(_) => Err(invalid_field("state", "unknown state")),
    }
}

/// An application's resource name, or INVALID_ARGUMENT naming `field`.
fn application_name(field: &str, name: &str) -> Result<ApplicationName, Status> {
    ApplicationName::parse(name).map_err(|e| invalid_field(field, e.to_string()))
}

/// A text filter: empty means none.
fn filter_text(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
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
        name: ApplicationName::new(a.id).to_string(),
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
            .map(|d| DocumentName::new(d).to_string())
            .unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl EmployerApplicationService for Applications {
    #[tracing::instrument(skip_all, fields(request_id = %request.get_ref().request_id))]
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
        let new = NewApplication {
            application: input_from_pb(&application),
            request_id: req.request_id,
        };
        let app = process::create(&self.0, &caller, &actor, &new).await?;
        Ok(Response::new(to_pb(app)))
    }

    #[tracing::instrument(skip_all, fields(name = %request.get_ref().name))]
    async fn get_application(
        &self,
        request: Request<pb::GetApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let caller = super::caller(&request);
        let name = application_name("name", &request.into_inner().name)?;
        let app = process::get(&self.0, &caller, &name).await?;
        Ok(Response::new(to_pb(app)))
    }

    #[tracing::instrument(skip_all, fields(year = request.get_ref().quota_year, region = %request.get_ref().region_code))]
    async fn list_applications(
        &self,
        request: Request<pb::ListApplicationsRequest>,
    ) -> Result<Response<pb::ListApplicationsResponse>, Status> {
        let caller = super::caller(&request);
        let req = request.into_inner();
        let query = ListQuery {
            quota_year: (req.quota_year != 0).then_some(i64::from(req.quota_year)),
            region_code: filter_text(&req.region_code),
            employer_bin: filter_text(&req.employer_bin),
            state: state_from_pb(req.state)?,
            page: PageRequest {
                size: req.page_size,
                token: req.page_token,
            },
        };
        let page = process::list(&self.0, &caller, &query).await?;
        Ok(Response::new(pb::ListApplicationsResponse {
            applications: page.items.into_iter().map(to_pb).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(name = ?request.get_ref().application.as_ref().map(|a| &a.name)))]
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
        let edit = Edit {
            name: application_name("application.name", &application.name)?,
            application: input_from_pb(&application),
            etag: application.etag,
        };
        let app = process::update(&self.0, &caller, &actor, &edit).await?;
        Ok(Response::new(to_pb(app)))
    }

    #[tracing::instrument(skip_all, fields(name = %request.get_ref().name))]
    async fn submit_application(
        &self,
        request: Request<pb::SubmitApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let req = request.into_inner();
        let name = application_name("name", &req.name)?;
        let app = process::submit(&self.0, &caller, &actor, &name, &req.etag).await?;
        Ok(Response::new(to_pb(app)))
    }

    #[tracing::instrument(skip_all, fields(name = %request.get_ref().name))]
    async fn withdraw_application(
        &self,
        request: Request<pb::WithdrawApplicationRequest>,
    ) -> Result<Response<pb::Application>, Status> {
        let actor = super::actor(&self.0, &request);
        let caller = super::caller(&request);
        let req = request.into_inner();
        let name = application_name("name", &req.name)?;
        let app = process::withdraw(&self.0, &caller, &actor, &name, &req.etag).await?;
        Ok(Response::new(to_pb(app)))
    }
}

//! Each request runs in its own `db::give_up` scope: once one of its database calls found the
//! database unreachable, its later writes give up at once instead of each waiting out the
//! pool's acquire timeout (see `crate::db::give_up`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::Error;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    crate::db::give_up::scope(next.call(req)).await
}

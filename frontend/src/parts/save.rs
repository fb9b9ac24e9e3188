//! Sending what a form (or a row button) asks the API for, without holding up the page.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;
use pgward_api_client::Client;

use crate::session::{Failure, Session};

/// Calls the API with `request` in the background and hands the answer to `done`; `busy` (if any) is set
/// while the call runs (it disables the button that started it). The request is cloned for each attempt:
/// the session retries once after refreshing an expired token.
pub fn save<R, T, F, Fut>(
    session: Session,
    busy: impl Into<Option<RwSignal<bool>>>,
    request: R,
    call: F,
    done: impl FnOnce(Result<T, Failure>) + 'static,
) where
    R: Clone + 'static,
    T: 'static,
    F: Fn(Client, R) -> Fut + 'static,
    Fut: Future<Output = pgward_api_client::Result<T>> + 'static,
{
    let busy = busy.into();
    if let Some(busy) = busy {
        busy.set(true);
    }
    spawn_local(async move {
        let result = session.call_detailed(|c| call(c, request.clone())).await;
        if let Some(busy) = busy {
            busy.set(false);
        }
        done(result);
    });
}

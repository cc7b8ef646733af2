//! The public catalog.

use gloo_net::http::Request;
use keel_shared::catalog::Product;

use super::{send, ClientError, BASE};

pub async fn products() -> Result<Vec<Product>, ClientError> {
    send(Request::get(&format!("{BASE}/products")).build()).await
}

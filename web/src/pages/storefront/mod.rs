//! The public site: plans, signing in and up, e-mail confirmation, password reset.

mod auth;
mod password;
mod plans;

pub use auth::{LoginPage, RegisterPage};
pub use password::{ForgotPasswordPage, ResetPasswordPage, UnlockPage, VerifyEmailPage};
pub use plans::StorefrontPage;

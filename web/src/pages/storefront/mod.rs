//! The public site: plans, the configurator and the cart, signing in and up, e-mail confirmation,
//! password reset.

mod auth;
mod cart;
mod order;
mod password;
mod plans;

pub use auth::{LoginPage, RegisterPage};
pub use cart::CartPage;
pub use order::OrderPage;
pub use password::{ForgotPasswordPage, ResetPasswordPage, UnlockPage, VerifyEmailPage};
pub use plans::StorefrontPage;

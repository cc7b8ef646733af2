//! The composition root: the one place that knows every domain. It gathers the job kinds and
//! scheduled tasks each domain registers (`<domain>/jobs.rs`); the HTTP routes are gathered the
//! same way in `http::app::api_routes`.

use crate::automation::registry::Registry;
use crate::deps::Deps;

/// Every job kind and scheduled task of this build.
pub fn registry() -> Registry<Deps> {
    let mut r = Registry::new();
    crate::automation::jobs::register(&mut r);
    crate::identity::jobs::register(&mut r);
    crate::commerce::jobs::register(&mut r);
    crate::billing::jobs::register(&mut r);
    crate::payments::jobs::register(&mut r);
    crate::provisioning::jobs::register(&mut r);
    crate::notifications::jobs::register(&mut r);
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shipped_task_has_a_handler_and_a_valid_schedule() {
        let r = super::registry();
        assert!(r.tasks().len() >= 3);
        for t in r.tasks() {
            assert!(r.knows(t.name), "{}", t.name);
            assert!(crate::automation::cron::Cron::parse(t.default_cron).is_ok(), "{}", t.name);
        }
    }
}

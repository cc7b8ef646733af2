pub mod feedback;
pub mod icons;
pub mod layout;

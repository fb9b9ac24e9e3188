//! The pieces pages are built from: list cards (loading, error, empty state, rows, paging), row
//! buttons, the database and destination pickers, form fields that show the API's messages, and charts.

mod actions;
mod charts;
mod chrome;
mod field;
mod gate;
mod list;
mod pager;
mod pickers;
mod progress;
mod save;

pub use actions::{DeleteButton, Note, RowActions, RowButton};
pub use charts::{OutcomeBars, RunSeries};
pub use chrome::{
    AddOrEditHeader, ClearFilters, LiveBadge, Outcome, PageHeader, RefreshButton, SubmitButton,
    TestAndSave, test_outcome,
};
pub use field::{Checkbox, Field, FieldGroup, Input, TextField, inputs, membership};
pub use gate::{Can, RequireRole};
pub use list::{
    ACTIONS, ListCard, ListResource, Polling, Reload, Table, Tone, api_list, each, items, table_of,
};
pub use pager::{Pager, Pages};
pub use pickers::{
    CheckList, Choice, DatabasePicker, DestinationPicker, FilterSelect, RoleSelect, databases,
    destinations, labelled, tasks,
};
pub use progress::Progress;
pub use save::save;

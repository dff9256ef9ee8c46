//! `InspectStorage`: a table's rows as they are stored.

use rusqlite::types::ValueRef;
use serde_json::Value;

use super::SqliteStorage;
use crate::store::StorageError;
use crate::store::inspect::{InspectStorage, Row, Table, blob_value, sort_rows};

impl InspectStorage for SqliteStorage {
    fn rows(&self, table: Table) -> Result<Vec<Row>, StorageError> {
        let mut rows = self.read(|c| {
            let mut q = c.prepare(&format!("SELECT * FROM {}", table.name()))?;
            let names: Vec<String> = q.column_names().into_iter().map(str::to_owned).collect();
            let rows = q.query_map([], |r| {
                let mut row = Row::new();
                for (i, name) in names.iter().enumerate() {
                    let v = match r.get_ref(i)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(n) => Value::from(n),
                        ValueRef::Real(x) => Value::from(x),
                        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(b) => blob_value(b),
                    };
                    row.insert(name.clone(), v);
                }
                Ok(row)
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })?;
        sort_rows(table, &mut rows);
        Ok(rows)
    }
}

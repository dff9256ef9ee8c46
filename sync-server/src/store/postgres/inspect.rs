//! `InspectStorage`: a table's rows as they are stored.

use postgres::types::Type;
use serde_json::Value;

use super::PostgresStorage;
use crate::store::StorageError;
use crate::store::inspect::{InspectStorage, Row, Table, blob_value, sort_rows};

impl InspectStorage for PostgresStorage {
    fn rows(&self, table: Table) -> Result<Vec<Row>, StorageError> {
        let mut rows = self.with(|c| {
            let mut out = Vec::new();
            for r in c.query(&format!("SELECT * FROM {}", table.name()), &[])? {
                let mut row = Row::new();
                for (i, col) in r.columns().iter().enumerate() {
                    let t = col.type_();
                    let v = if *t == Type::INT8 {
                        r.try_get::<_, Option<i64>>(i)?.map(Value::from)
                    } else if *t == Type::INT4 {
                        r.try_get::<_, Option<i32>>(i)?.map(Value::from)
                    } else if *t == Type::BOOL {
                        r.try_get::<_, Option<bool>>(i)?
                            .map(|b| Value::from(i64::from(b)))
                    } else if *t == Type::FLOAT8 {
                        r.try_get::<_, Option<f64>>(i)?.map(Value::from)
                    } else if *t == Type::BYTEA {
                        r.try_get::<_, Option<Vec<u8>>>(i)?.map(|b| blob_value(&b))
                    } else if *t == Type::TEXT {
                        r.try_get::<_, Option<String>>(i)?.map(Value::String)
                    } else {
                        return Err(StorageError::Db(format!(
                            "{}.{} has type {t}, which inspection does not read",
                            table.name(),
                            col.name()
                        )));
                    };
                    row.insert(col.name().to_owned(), v.unwrap_or(Value::Null));
                }
                out.push(row);
            }
            Ok(out)
        })?;
        sort_rows(table, &mut rows);
        Ok(rows)
    }
}

//! Tenants and API keys.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Sql, SqlDatabase, store_error};
use crate::store::{ApiKey, StoreError, Tenant, TenantStore, keys};

/// Longest tenant name; names travel in every event and every row.
const MAX_TENANT_NAME: usize = 64;

/// Tenant names are identifiers: letters, digits, `-`, `_`, `.`.
pub(crate) fn check_tenant_name(name: &str) -> Result<(), StoreError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_TENANT_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "tenant name {name:?} must be 1 to {MAX_TENANT_NAME} letters, digits, '-', '_' or '.'"
        )))
    }
}

fn key_from_row(row: &AnyRow) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: row.try_get("id").map_err(store_error)?,
        tenant: row.try_get("tenant_id").map_err(store_error)?,
        label: row.try_get("label").map_err(store_error)?,
        created_ns: row.try_get("created_ns").map_err(store_error)?,
        revoked_ns: row.try_get("revoked_ns").map_err(store_error)?,
    })
}

const KEY_COLUMNS: &str = "SELECT id, tenant_id, label, created_ns, revoked_ns FROM api_keys";

#[async_trait]
impl TenantStore for SqlDatabase {
    async fn create_tenant(&self, name: &str, now_ns: i64) -> Result<Tenant, StoreError> {
        check_tenant_name(name)?;
        let inserted = Sql::new("INSERT INTO tenants (name, created_ns) VALUES (")
            .bind(name)
            .push(", ")
            .bind(now_ns)
            .push(") ON CONFLICT (name) DO NOTHING")
            .execute(&self.pool)
            .await?;
        if inserted == 0 {
            return Err(StoreError::Invalid(format!(
                "tenant `{name}` already exists"
            )));
        }
        Ok(Tenant {
            name: name.to_owned(),
            created_ns: now_ns,
        })
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        Sql::new("SELECT name, created_ns FROM tenants ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(Tenant {
                    name: row.try_get("name").map_err(store_error)?,
                    created_ns: row.try_get("created_ns").map_err(store_error)?,
                })
            })
            .collect()
    }

    async fn create_key(
        &self,
        tenant: &str,
        label: &str,
        now_ns: i64,
    ) -> Result<(ApiKey, String), StoreError> {
        let exists = Sql::new("SELECT name FROM tenants WHERE name = ")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_none() {
            return Err(StoreError::Invalid(format!(
                "no tenant `{tenant}` (create it with `sluice tenant create {tenant}`)"
            )));
        }
        let (id, plaintext, hash) = keys::generate();
        Sql::new("INSERT INTO api_keys (id, tenant_id, label, key_hash, created_ns) VALUES (")
            .bind(id.as_str())
            .push(", ")
            .bind(tenant)
            .push(", ")
            .bind(label)
            .push(", ")
            .bind(hash)
            .push(", ")
            .bind(now_ns)
            .push(")")
            .execute(&self.pool)
            .await?;
        let key = ApiKey {
            id,
            tenant: tenant.to_owned(),
            label: label.to_owned(),
            created_ns: now_ns,
            revoked_ns: None,
        };
        Ok((key, plaintext))
    }

    async fn list_keys(&self, tenant: &str) -> Result<Vec<ApiKey>, StoreError> {
        Sql::new(KEY_COLUMNS)
            .push(" WHERE tenant_id = ")
            .bind(tenant)
            .push(" ORDER BY created_ns, id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(key_from_row)
            .collect()
    }

    async fn revoke_key(&self, key_id: &str, now_ns: i64) -> Result<ApiKey, StoreError> {
        Sql::new("UPDATE api_keys SET revoked_ns = COALESCE(revoked_ns, ")
            .bind(now_ns)
            .push(") WHERE id = ")
            .bind(key_id)
            .execute(&self.pool)
            .await?;
        let row = Sql::new(KEY_COLUMNS)
            .push(" WHERE id = ")
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        key_from_row(&row)
    }

    async fn authenticate(&self, presented: &str) -> Result<Option<String>, StoreError> {
        let row = Sql::new("SELECT tenant_id FROM api_keys WHERE key_hash = ")
            .bind(keys::hash(presented))
            .push(" AND revoked_ns IS NULL")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| row.try_get("tenant_id").map_err(store_error))
            .transpose()
    }
}

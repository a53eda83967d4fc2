//! The resource tree of a REST API. Rows hold only the tree (id, parent, path part); paths are
//! derived from it on read, so moving a subtree is one row update.

use std::collections::HashMap;

use sqlx::PgConnection;

use super::StoreError;

/// One node as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    pub parent_id: Option<String>,
    pub path_part: Option<String>,
}

/// The whole tree of an API, in creation order.
pub async fn all(conn: &mut PgConnection, api_id: &str) -> Result<Vec<Node>, StoreError> {
    let rows: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT id, parent_id, path_part FROM resources WHERE api_id = $1 ORDER BY seq")
            .bind(api_id)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, parent_id, path_part)| Node {
            id,
            parent_id,
            path_part,
        })
        .collect())
}

pub async fn exists(conn: &mut PgConnection, api_id: &str, id: &str) -> Result<bool, StoreError> {
    let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM resources WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

pub async fn insert(conn: &mut PgConnection, api_id: &str, node: &Node) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO resources (api_id, id, parent_id, path_part) VALUES ($1, $2, $3, $4)")
        .bind(api_id)
        .bind(&node.id)
        .bind(&node.parent_id)
        .bind(&node.path_part)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn update(conn: &mut PgConnection, api_id: &str, node: &Node) -> Result<(), StoreError> {
    sqlx::query("UPDATE resources SET parent_id = $3, path_part = $4 WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(&node.id)
        .bind(&node.parent_id)
        .bind(&node.path_part)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a resource; its descendants and their methods go with it (cascading keys).
pub async fn delete(conn: &mut PgConnection, api_id: &str, id: &str) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM resources WHERE api_id = $1 AND id = $2")
        .bind(api_id)
        .bind(id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A loaded tree with path computation.
pub struct Tree {
    pub nodes: Vec<Node>,
    index: HashMap<String, usize>,
}

impl Tree {
    pub fn new(nodes: Vec<Node>) -> Self {
        let index = nodes.iter().enumerate().map(|(i, n)| (n.id.clone(), i)).collect();
        Self { nodes, index }
    }

    /// Adds a node (one just stored).
    pub fn insert(&mut self, node: Node) {
        self.index.insert(node.id.clone(), self.nodes.len());
        self.nodes.push(node);
    }

    pub fn get(&self, id: &str) -> Option<&Node> {
        self.index.get(id).map(|&i| &self.nodes[i])
    }

    /// The full path of a node: `/` for the root, `/a/{b}` below it.
    pub fn path_of(&self, id: &str) -> String {
        let mut parts = Vec::new();
        let mut cur = self.get(id);
        // Bounded by the node count, so a corrupt cycle cannot loop forever.
        for _ in 0..=self.nodes.len() {
            let Some(node) = cur else { break };
            match (&node.parent_id, &node.path_part) {
                (Some(parent), Some(part)) => {
                    parts.push(part.as_str());
                    cur = self.get(parent);
                }
                _ => break,
            }
        }
        if parts.is_empty() {
            return "/".to_owned();
        }
        parts.reverse();
        let mut path = String::new();
        for p in parts {
            path.push('/');
            path.push_str(p);
        }
        path
    }

    pub fn children<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes
            .iter()
            .filter(move |n| n.parent_id.as_deref() == Some(id))
    }

    /// Whether `ancestor` is `id` itself or above it.
    pub fn is_ancestor_or_self(&self, ancestor: &str, id: &str) -> bool {
        let mut cur = Some(id);
        for _ in 0..=self.nodes.len() {
            match cur {
                Some(c) if c == ancestor => return true,
                Some(c) => cur = self.get(c).and_then(|n| n.parent_id.as_deref()),
                None => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, parent: Option<&str>, part: Option<&str>) -> Node {
        Node {
            id: id.into(),
            parent_id: parent.map(Into::into),
            path_part: part.map(Into::into),
        }
    }

    #[test]
    fn paths_are_derived_from_the_tree() {
        let t = Tree::new(vec![
            node("r", None, None),
            node("a", Some("r"), Some("pets")),
            node("b", Some("a"), Some("{id}")),
        ]);
        assert_eq!(t.path_of("r"), "/");
        assert_eq!(t.path_of("b"), "/pets/{id}");
        assert!(t.is_ancestor_or_self("a", "b"));
        assert!(!t.is_ancestor_or_self("b", "a"));
        assert_eq!(t.children("r").count(), 1);
    }
}

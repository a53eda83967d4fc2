//! Route matching for REST and HTTP APIs: a resource tree walked segment by segment, as API Gateway
//! matches: a literal part beats a `{param}`, which beats a greedy `{param+}` (which takes one
//! or more remaining segments). When a more specific branch leads nowhere, the next one is tried.
//! Pure and allocation-light: a lookup borrows the path and returns borrowed captures.

use std::collections::HashMap;

/// A tree of resources; `T` is what a matched resource carries (its methods).
#[derive(Debug)]
pub struct RouteTree<T> {
    root: Node<T>,
    len: usize,
    /// Whether a `{param}` and a `{greedy+}` may share a parent: HTTP APIs' routes may
    /// (`GET /pets/{id}` beside `ANY /pets/{proxy+}`), REST APIs' resources may not.
    param_beside_greedy: bool,
}

#[derive(Debug)]
struct Node<T> {
    value: Option<T>,
    literals: HashMap<Box<str>, Node<T>>,
    param: Option<(Box<str>, Box<Node<T>>)>,
    greedy: Option<(Box<str>, T)>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Self {
            value: None,
            literals: HashMap::new(),
            param: None,
            greedy: None,
        }
    }
}

/// Why a resource path could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("two variable path parts under one parent: {0}")]
    ConflictingVariables(String),
    #[error("a greedy path part must be the last: {0}")]
    GreedyNotLast(String),
    #[error("duplicate resource path: {0}")]
    Duplicate(String),
}

/// A matched resource and the raw (still percent-encoded) values of its path parameters.
#[derive(Debug, PartialEq, Eq)]
pub struct Match<'t, 'p, T> {
    pub value: &'t T,
    pub params: Vec<(&'t str, &'p str)>,
}

impl<T> Default for RouteTree<T> {
    fn default() -> Self {
        Self {
            root: Node::default(),
            len: 0,
            param_beside_greedy: false,
        }
    }
}

impl<T> RouteTree<T> {
    /// A tree for HTTP API routes, where a `{param}` and a `{greedy+}` may be siblings (the
    /// param is tried first).
    pub fn param_beside_greedy() -> Self {
        Self {
            param_beside_greedy: true,
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a resource at `path` (`/`, `/pets/{id}`, `/files/{proxy+}`).
    pub fn insert(&mut self, path: &str, value: T) -> Result<(), RouteError> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut node = &mut self.root;
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
                if !last {
                    return Err(RouteError::GreedyNotLast(path.to_owned()));
                }
                if node.greedy.is_some() || (node.param.is_some() && !self.param_beside_greedy) {
                    return Err(RouteError::ConflictingVariables(path.to_owned()));
                }
                node.greedy = Some((name.into(), value));
                self.len += 1;
                return Ok(());
            }
            if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                match &mut node.param {
                    Some((existing, _)) if &**existing != name => {
                        return Err(RouteError::ConflictingVariables(path.to_owned()));
                    }
                    Some(_) => {}
                    None if node.greedy.is_some() && !self.param_beside_greedy => {
                        return Err(RouteError::ConflictingVariables(path.to_owned()));
                    }
                    None => node.param = Some((name.into(), Box::default())),
                }
                node = &mut node.param.as_mut().expect("just set").1;
            } else {
                node = node.literals.entry((*part).into()).or_default();
            }
        }
        if node.value.is_some() {
            return Err(RouteError::Duplicate(path.to_owned()));
        }
        node.value = Some(value);
        self.len += 1;
        Ok(())
    }

    /// Finds the resource for a request path (its raw, percent-encoded form, without the query).
    pub fn lookup<'t, 'p>(&'t self, path: &'p str) -> Option<Match<'t, 'p, T>> {
        self.lookup_where(path, |_| true)
    }

    /// Finds the most specific resource for a path that `accept`s the request (an HTTP API
    /// route for its verb): a resource that does not is passed over for a less specific one.
    pub fn lookup_where<'t, 'p>(
        &'t self,
        path: &'p str,
        accept: impl Fn(&T) -> bool,
    ) -> Option<Match<'t, 'p, T>> {
        let rest = path.strip_prefix('/').unwrap_or(path);
        let mut params = Vec::new();
        let value = Self::walk(&self.root, rest, &mut params, &accept)?;
        Some(Match { value, params })
    }

    fn walk<'t, 'p>(
        node: &'t Node<T>,
        rest: &'p str,
        params: &mut Vec<(&'t str, &'p str)>,
        accept: &impl Fn(&T) -> bool,
    ) -> Option<&'t T> {
        if rest.is_empty() {
            return node.value.as_ref().filter(|v| accept(v));
        }
        let (segment, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        if let Some(child) = node.literals.get(segment)
            && let Some(v) = Self::walk(child, tail, params, accept)
        {
            return Some(v);
        }
        if !segment.is_empty()
            && let Some((name, child)) = &node.param
        {
            let mark = params.len();
            params.push((name, segment));
            if let Some(v) = Self::walk(child, tail, params, accept) {
                return Some(v);
            }
            params.truncate(mark);
        }
        if let Some((name, value)) = &node.greedy
            && accept(value)
        {
            params.push((name, rest));
            return Some(value);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(paths: &[&str]) -> RouteTree<String> {
        let mut t = RouteTree::default();
        for p in paths {
            t.insert(p, (*p).to_owned()).unwrap();
        }
        t
    }

    fn hit(t: &RouteTree<String>, path: &str) -> Option<(String, Vec<(String, String)>)> {
        t.lookup(path).map(|m| {
            (
                m.value.clone(),
                m.params
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            )
        })
    }

    #[test]
    fn literals_beat_params_beat_greedy() {
        let t = tree(&["/", "/pets", "/pets/{id}", "/pets/mine", "/{proxy+}"]);
        assert_eq!(hit(&t, "/").unwrap().0, "/");
        assert_eq!(hit(&t, "/pets/mine").unwrap().0, "/pets/mine");
        let (v, p) = hit(&t, "/pets/42").unwrap();
        assert_eq!(v, "/pets/{id}");
        assert_eq!(p, vec![("id".into(), "42".into())]);
        let (v, p) = hit(&t, "/a/b/c").unwrap();
        assert_eq!(v, "/{proxy+}");
        assert_eq!(p, vec![("proxy".into(), "a/b/c".into())]);
    }

    #[test]
    fn a_dead_end_literal_falls_back_to_the_variable_branch() {
        let t = tree(&["/pets/mine", "/pets/{id}/toys"]);
        assert_eq!(hit(&t, "/pets/mine/toys").unwrap().0, "/pets/{id}/toys");
        assert!(
            hit(&t, "/pets").is_none(),
            "a path prefix without a resource does not match"
        );
        assert!(hit(&t, "/pets/x").is_none());
    }

    #[test]
    fn greedy_parts_need_at_least_one_segment() {
        let t = tree(&["/files/{path+}"]);
        assert!(hit(&t, "/files").is_none());
        assert_eq!(hit(&t, "/files/a/b.txt").unwrap().1[0].1, "a/b.txt");
        let root = tree(&["/{proxy+}"]);
        assert!(hit(&root, "/").is_none());
    }

    #[test]
    fn conflicting_trees_are_refused() {
        let mut t = RouteTree::default();
        t.insert("/{a}", 1).unwrap();
        assert_eq!(
            t.insert("/{b}", 2),
            Err(RouteError::ConflictingVariables("/{b}".into()))
        );
        assert!(matches!(
            t.insert("/{p+}/x", 3),
            Err(RouteError::GreedyNotLast(_))
        ));
        assert!(matches!(t.insert("/{a}", 4), Err(RouteError::Duplicate(_))));
    }

    #[test]
    fn lookups_stay_fast_with_ten_thousand_resources() {
        let mut t = RouteTree::default();
        for i in 0..10_000 {
            t.insert(&format!("/r{}/items/{{id}}", i), i).unwrap();
        }
        assert_eq!(*t.lookup("/r9999/items/7").unwrap().value, 9999);
        assert_eq!(t.len(), 10_000);
    }
}

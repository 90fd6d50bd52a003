//! Union-find (disjoint sets) with path halving and union by size.

/// Disjoint sets over 0..n.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// n singletons.
    pub fn new(n: usize) -> Self {
        Self { parent: (0..n as u32).collect(), size: vec![1; n] }
    }

    /// The representative of x's set (amortized near O(1)).
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Merge the sets of a and b; returns whether they were apart.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
        true
    }

    /// The groups with at least `min_size` members, each sorted, ordered by first member.
    /// O(n α(n)), without hashing: the sizes say which roots have such a group.
    pub fn groups(&mut self, min_size: usize) -> Vec<Vec<u32>> {
        let n = self.parent.len();
        // per root: its group's index, once its first member is seen
        let mut group_of = vec![u32::MAX; n];
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for x in 0..n as u32 {
            let root = self.find(x) as usize;
            let size = self.size[root] as usize;
            if size < min_size {
                continue;
            }
            if group_of[root] == u32::MAX {
                group_of[root] = groups.len() as u32;
                groups.push(Vec::with_capacity(size));
            }
            groups[group_of[root] as usize].push(x);
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_transitively() {
        let mut uf = UnionFind::new(6);
        assert!(uf.union(0, 1));
        assert!(uf.union(2, 1));
        assert!(!uf.union(0, 2));
        uf.union(4, 5);
        assert_eq!(uf.groups(2), vec![vec![0, 1, 2], vec![4, 5]]);
        assert_eq!(uf.groups(1).len(), 3);
    }

    proptest::proptest! {
        #[test]
        fn groups_are_the_connected_components(n in 1usize..60, edges in proptest::collection::vec((0u32..60, 0u32..60), 0..80), min_size in 1usize..4) {
            let mut uf = UnionFind::new(n);
            let edges: Vec<(u32, u32)> = edges.into_iter().filter(|&(a, b)| (a as usize) < n && (b as usize) < n).collect();
            for &(a, b) in &edges {
                uf.union(a, b);
            }
            // components by repeated relabelling to the smallest reachable member
            let mut label: Vec<u32> = (0..n as u32).collect();
            for _ in 0..n {
                for &(a, b) in &edges {
                    let low = label[a as usize].min(label[b as usize]);
                    label[a as usize] = low;
                    label[b as usize] = low;
                }
            }
            let mut want: Vec<Vec<u32>> = Vec::new();
            for first in 0..n as u32 {
                let members: Vec<u32> = (0..n as u32).filter(|&x| label[x as usize] == first).collect();
                if !members.is_empty() && members.len() >= min_size {
                    want.push(members);
                }
            }
            proptest::prop_assert_eq!(uf.groups(min_size), want);
        }
    }
}

//! Errors and warnings of deduplication, as data: the option at fault, the cluster and its size.
use serde::Serialize;

/// Dedup options that cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option outside its valid range.
    #[error("{name} must be {expected}, found {found}")]
    InvalidOption {
        /// The option, as [`crate::dedup::DedupOptions`] names its field.
        name: &'static str,
        /// The valid range, in words.
        expected: &'static str,
        /// The value given.
        found: String,
    },
    /// Two options that exclude each other.
    #[error("{first} and {second} exclude each other")]
    Conflict {
        /// One option.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
}

impl Error {
    pub(crate) fn invalid(name: &'static str, expected: &'static str, found: impl ToString) -> Self {
        Error::InvalidOption { name, expected, found: found.to_string() }
    }
}

/// Something a dedup run did that the user should check, with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DedupWarning {
    /// A cluster above the size limit whose members all share one normalized text: the corpus
    /// repeats one record (a collapsed mode).
    CollapsedMode {
        /// The cluster.
        cluster: usize,
        /// Its members.
        members: usize,
    },
    /// A cluster above the size limit that near-duplicate links chained together.
    LargeCluster {
        /// The cluster.
        cluster: usize,
        /// Its members.
        members: usize,
        /// Members that are exact duplicates (or the kept record).
        exact: usize,
        /// The size limit (`DedupOptions::max_cluster_size`).
        limit: usize,
        /// The least Jaccard similarity of a member to the kept record.
        least_similarity: f64,
    },
    /// LSH buckets too large to compare pairwise; their members were compared with the
    /// bucket's first document only.
    LargeBuckets {
        /// How many buckets.
        buckets: usize,
        /// Members above which a bucket is large.
        limit: usize,
    },
}

impl std::fmt::Display for DedupWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            DedupWarning::CollapsedMode { cluster, members } => write!(
                f,
                "cluster {cluster} has {members} members, all the same normalized text: the corpus repeats one record {members} times (a collapsed mode)"
            ),
            DedupWarning::LargeCluster { cluster, members, exact, limit, least_similarity } => write!(
                f,
                "cluster {cluster} has {members} members ({exact} exact duplicates; more than the cluster-size limit {limit}): near-duplicate links chain transitively (A~B and B~C put A, B, C together), and its least similar member has Jaccard {least_similarity:.3} to the kept record; check it, or raise the threshold or the shingle size"
            ),
            DedupWarning::LargeBuckets { buckets, limit } => write!(
                f,
                "{buckets} LSH bucket(s) held more than {limit} documents; their members were compared with the bucket's first document only"
            ),
        }
    }
}

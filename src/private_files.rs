//! Files that hold secrets or personal data (the SQLite database and its `-wal`/`-shm`, the
//! JWT secret, the email outbox) are created for the owner only: folders 0700, files 0600,
//! whatever the process's umask.

use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// `mkdir -p` with 0700 for each folder it creates; existing folders are left as they are.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Creates `path` empty with 0600 unless it exists. SQLite gives its `-wal` and `-shm` the
/// database file's mode, so a database created this way keeps all three private.
pub fn create_file_if_missing(path: &Path) -> io::Result<()> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// Creates `path` empty with 0600; fails with `AlreadyExists` if it exists (a backup never
/// overwrites a file).
pub fn create_new(path: &Path) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Takes group and other bits off an existing file (one made before files were private).
/// Returns the mode it had when it was narrowed.
pub fn narrow(path: &Path) -> io::Result<Option<u32>> {
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
    Ok(Some(mode))
}

/// Writes a whole file created with 0600 (async, for the job workers).
pub async fn write_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)
        .await?;
    file.write_all(contents).await?;
    file.flush().await
}

/// `mkdir -p` with 0700 (async, for the job workers).
pub async fn create_dir_all_async(dir: &Path) -> io::Result<()> {
    tokio::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn folders_and_files_are_the_owners_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_dir_all(&dir).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        create_file_if_missing(&file).unwrap();
        create_file_if_missing(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        let written = dir.join("g");
        write_new(&written, b"x").await.unwrap();
        assert_eq!(mode(&written), 0o600);
        std::fs::set_permissions(&written, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(narrow(&written).unwrap(), Some(0o644));
        assert_eq!(mode(&written), 0o600);
        assert_eq!(narrow(&written).unwrap(), None);
    }
}

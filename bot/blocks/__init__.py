"""Pure presenters: data in, Block Kit (and report files) out. Nothing here queries or sends."""

package engine

// DefaultTemplate is CUPI's default user template alias.
const DefaultTemplate = "voicemailusertemplate"

package main

func runExport(args []string, io streams) error { return fail(exitInvalid, "not yet") }

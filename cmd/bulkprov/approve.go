package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/bulkprov/bulkprov/internal/approval"
	"github.com/bulkprov/bulkprov/internal/audit"
	"github.com/bulkprov/bulkprov/internal/report"
	"github.com/bulkprov/bulkprov/transform"
)

// approvalFlags are apply's approval policy flags.
type approvalFlags struct {
	allowedSigners string
	approvals      int
	fs             *flag.FlagSet
}

func (a *approvalFlags) register(fs *flag.FlagSet) {
	a.fs = fs
	fs.StringVar(&a.allowedSigners, "allowed-signers", "", "approval policy: run only a --plan signed (ssh-keygen -Y sign -n bulkprov-plan, or bulkprov approve) by keys of this OpenSSH allowed_signers FILE (default: the config's approval.allowedSigners)")
	fs.IntVar(&a.approvals, "approvals", 1, "approval policy: the number of distinct allowed keys that must have signed the plan")
}

// policy is the approval policy of an apply: from its flags, else from
// its --config (else, for apply --revert, from the config of the run the
// back-out file undoes), never from the plan file. nil: no policy.
func (a *approvalFlags) policy(tf *targetFlags, rv *revertRun) (*approval.Policy, error) {
	file, required := a.allowedSigners, 0
	var cfg *transform.Config
	cfgDir := ""
	switch {
	case tf.config != "":
		c, _, err := transform.LoadConfig(tf.config)
		if err != nil {
			return nil, fail(exitInvalid, "%v", err)
		}
		cfg, cfgDir = c, filepath.Dir(tf.config)
	case rv != nil:
		cfg = rv.cfg
	}
	if cfg != nil && cfg.Approval != nil {
		if file == "" {
			file = cfg.Approval.AllowedSigners
			if !filepath.IsAbs(file) && cfgDir != "" {
				file = filepath.Join(cfgDir, file)
			}
		}
		required = cfg.Approval.Required
	}
	if flagSet(a.fs, "approvals") {
		required = a.approvals
		if file == "" {
			return nil, fail(exitInvalid, "--approvals %d needs --allowed-signers FILE (or the config's approval.allowedSigners)", a.approvals)
		}
	}
	if file == "" {
		return nil, nil
	}
	if required == 0 && !flagSet(a.fs, "approvals") {
		required = 1
	}
	if required < 1 {
		return nil, fail(exitInvalid, "--approvals %d: want at least 1 signer", required)
	}
	signers, err := approval.ReadAllowedSigners(file)
	if err != nil {
		return nil, fail(exitInvalid, "%v", err)
	}
	return &approval.Policy{File: file, Signers: signers, Required: required}, nil
}

// checkApproval refuses, before anything is done, an apply whose plan
// lacks the approvals its policy requires; it names each signature and
// why it counts or not, and records the approvers on the report and the
// audit record.
func checkApproval(pol *approval.Policy, planPath string, rep *reporter, au *auditRun, io streams) (*approval.Result, error) {
	if planPath == "" {
		return nil, fail(exitInvalid, "an approval policy is in force (%d signature(s) of %s): apply runs only a saved plan: make one with plan --out PLAN.json, have it signed, then apply --plan PLAN.json; nothing was written", pol.Required, pol.File)
	}
	res, err := pol.Check(planPath, time.Now())
	if err != nil {
		return nil, fail(exitInvalid, "--plan: %v; nothing was written", err)
	}
	au.approvers(res)
	if !res.OK() {
		return nil, fail(exitInvalid, "--plan %v\nnothing was written", &approval.Refusal{Result: res})
	}
	for _, ap := range res.Approvers {
		rep.run.Approvals = append(rep.run.Approvals, report.Approval{Principal: ap.Principal, Key: ap.Key})
	}
	for _, f := range res.Findings {
		fmt.Fprintf(io.err, "approval: %s\n", f)
	}
	return res, nil
}

// runApprove is bulkprov approve --key KEY PLAN.
func runApprove(args []string, io streams) (err error) {
	var key, allowed, config, logPath, stateDir string
	fs := newFlagSet("approve", "--key KEY [flags] PLAN", `
Sign a saved plan (plan --out PLAN.json) as a change-board approval: an SSH
signature over the plan file's exact bytes in the namespace bulkprov-plan,
written to PLAN.<principal>.sig — the key's principal in the allowed
signers file, else the hex SHA-256 of the key. It is the signature
ssh-keygen -Y sign -n bulkprov-plan -f KEY PLAN makes (use that for a key
with a passphrase or in ssh-agent, and rename PLAN.sig to PLAN.NAME.sig).
apply --plan PLAN under an approval policy counts these signatures.

Examples:
  bulkprov approve --key ~/.ssh/id_ed25519 --allowed-signers board.allowed_signers plan.json
  ssh-keygen -Y verify -f board.allowed_signers -I alice@example.com \
      -n bulkprov-plan -s plan.json.alice@example.com.sig < plan.json

Exit 0 signed, 2 bad usage (no key, not a plan; nothing written).`, io)
	fs.StringVar(&key, "key", "", "the OpenSSH private key to sign with (not passphrase-protected)")
	fs.StringVar(&allowed, "allowed-signers", "", "allowed_signers FILE that names the key's principal (default: the config's approval.allowedSigners)")
	fs.StringVar(&config, "config", "", "take the allowed signers file from this config's approval object")
	fs.StringVar(&stateDir, "state-dir", "", "state folder whose audit.jsonl records the approval")
	auditLogFlag(fs, &logPath)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	tf := &targetFlags{stateDir: stateDir, config: config}
	au, err := startAudit("approve", logPath, args, paths, tf, io)
	if err != nil {
		return err
	}
	defer func() { err = au.finish(err) }()
	if len(paths) != 1 {
		fs.Usage()
		return fail(exitInvalid, "approve takes one plan file, got %d", len(paths))
	}
	plan := paths[0]
	if key == "" {
		return fail(exitInvalid, "--key KEY is required (the private key to sign with)")
	}
	if _, err := loadPlan(plan); err != nil {
		return fail(exitInvalid, "%v; nothing was signed", err)
	}
	var signers []approval.Signer
	if allowed != "" || config != "" {
		af := &approvalFlags{allowedSigners: allowed}
		pol, err := af.policy(tf, nil)
		if err != nil {
			return err
		}
		if pol != nil {
			signers = pol.Signers
		}
	}
	s, err := approval.Sign(plan, key, signers)
	if err != nil {
		return fail(exitInvalid, "%v; nothing was signed", err)
	}
	sum, _, _ := fileSHA256(plan)
	au.rec.Plan, au.rec.PlanSHA256 = plan, sum
	au.rec.Approvers = append(au.rec.Approvers, audit.Approver{Principal: s.Principal, Key: s.Key})
	fmt.Fprintf(io.out, "signed %s (sha256 %s) as %s (key %s): %s\n", plan, sum, s.Principal, s.Key, s.Path)
	return nil
}

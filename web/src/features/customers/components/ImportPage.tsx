import { useEffect, useMemo, useState, type ChangeEvent } from 'react';
import { Alert, Button, ButtonLink, Page, SelectField } from '../../../lib/ui/index.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { customersApi, type ImportOutcome } from '../api.ts';
import {
  MAX_FILE_BYTES, REJECT_MESSAGES, TARGETS, TARGET_LABELS, guessMapping, normaliseRecords, parseCsv, rejectedCsv, rpcBatches,
  type Normalised, type ParsedCsv, type Rejected, type Target,
} from '../csv.ts';
import '../../capture/capture.css';

interface Report {
  created: number;
  updated: number;
  unchanged: number;
  consentRecorded: number;
  consentSkipped: number;
  /** Client-side rejections plus any row the server refused. */
  rejected: Rejected[];
}

function downloadText(name: string, text: string) {
  const url = URL.createObjectURL(new Blob(['\uFEFF', text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** /customers/import — upload → map columns → preview → import in batches → per-row report. */
export function ImportPage() {
  const tenant = useTenancy(selectActiveTenant);
  const tenantId = tenant?.id ?? null;
  const [fileName, setFileName] = useState<string | null>(null);
  const [parsed, setParsed] = useState<ParsedCsv | null>(null);
  const [mapping, setMapping] = useState<Target[]>([]);
  const [country, setCountry] = useState<string | null>('US');
  const [existing, setExisting] = useState<Set<string> | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [report, setReport] = useState<Report | null>(null);

  useEffect(() => {
    if (!tenantId) return;
    customersApi.tenantCountry(tenantId).then((c) => setCountry(c ?? 'US'), () => {});
    customersApi.existingPhones(tenantId).then(setExisting, () => setExisting(undefined));
  }, [tenantId]);

  const result: Normalised | null = useMemo(
    () => (parsed ? normaliseRecords(parsed, mapping, { defaultCountry: country, existingPhones: existing }) : null),
    [parsed, mapping, country, existing],
  );

  if (!tenant) return null;
  const hasPhone = mapping.includes('phone');
  const hasName = mapping.includes('name') || mapping.includes('first_name') || mapping.includes('last_name');

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    setError(null);
    setReport(null);
    setParsed(null);
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      setError(`The file is ${(file.size / 1048576).toFixed(1)} MB; split it into files of at most ${MAX_FILE_BYTES / 1048576} MB.`);
      return;
    }
    try {
      const p = parseCsv(await file.text());
      setFileName(file.name);
      setParsed(p);
      setMapping(guessMapping(p.headers));
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const runImport = async () => {
    if (!result || !fileName) return;
    const batches = rpcBatches(result.customers);
    const outcome: Report = { created: 0, updated: 0, unchanged: 0, consentRecorded: 0, consentSkipped: 0, rejected: [...result.rejected] };
    const firstStatus = new Map<number, ImportOutcome['status']>();
    setProgress({ done: 0, total: batches.length });
    setError(null);
    try {
      for (let i = 0; i < batches.length; i++) {
        const rows = await customersApi.importBatch(tenant.id, batches[i]!, fileName);
        for (const r of rows) {
          if (r.consent === 'recorded') outcome.consentRecorded++;
          if (r.consent === 'skipped_opted_out') outcome.consentSkipped++;
          if (r.status === 'rejected') {
            const source = parsed!.records[r.row - 1] ?? [];
            const values: Record<string, string> = {};
            parsed!.headers.forEach((h, k) => { if (source[k]) values[h] = source[k]!; });
            outcome.rejected.push({ row: r.row, reason: 'malformed_row', message: `Refused by the server (${r.reason ?? 'invalid'})`, values });
            continue;
          }
          // A customer with several vehicles is sent as several rows: count the customer once, by its first row.
          if (!firstStatus.has(r.row)) firstStatus.set(r.row, r.status);
          else if (firstStatus.get(r.row) === 'unchanged' && r.status === 'updated') firstStatus.set(r.row, 'updated');
        }
        setProgress({ done: i + 1, total: batches.length });
      }
      for (const s of firstStatus.values()) outcome[s === 'created' ? 'created' : s === 'updated' ? 'updated' : 'unchanged']++;
      outcome.rejected.sort((a, b) => a.row - b.row);
      setReport(outcome);
    } catch (err) {
      setError(`${errorMessage(err)} The rows sent before this stay imported; importing the file again is safe.`);
    } finally {
      setProgress(null);
    }
  };

  return (
    <Page title="Import customers">
      <p className="lead">Upload a CSV exported from a spreadsheet or your old system. You check the columns and a preview before anything is saved.</p>
      <label className="btn btn-secondary">
        Choose a CSV file
        <input className="visually-hidden" type="file" accept=".csv,text/csv,text/plain" onChange={onFile} />
      </label>
      {error ? <Alert>{error}</Alert> : null}

      {parsed && result && !report ? (
        <>
          <section className="card" aria-labelledby="map-title">
            <h2 id="map-title">1. Columns in {fileName}</h2>
            <p className="hint">{parsed.records.length.toLocaleString()} rows, separated by “{parsed.delimiter === '\t' ? 'tab' : parsed.delimiter}”. Phone numbers without + are read as {country ?? 'US'} numbers.</p>
            <div className="columns">
              {parsed.headers.map((h, i) => (
                <SelectField
                  key={`${h}-${i}`}
                  label={h || `Column ${i + 1}`}
                  value={mapping[i] ?? 'ignore'}
                  onChange={(e) => setMapping(mapping.map((m, k) => (k === i ? (e.target.value as Target) : m)))}
                  options={TARGETS.map((t) => ({ value: t, label: TARGET_LABELS[t] }))}
                />
              ))}
            </div>
            {!hasPhone || !hasName ? <Alert>Choose which column holds the {!hasName ? 'name' : 'mobile phone'}.</Alert> : null}
          </section>

          <section className="card" aria-labelledby="preview-title">
            <h2 id="preview-title">2. Preview</h2>
            <ul className="import-summary">
              <li><strong>{result.customers.length.toLocaleString()}</strong>customers to import</li>
              <li><strong>{result.customers.filter((c) => c.existing).length.toLocaleString()}</strong>already in ServicePro (merged)</li>
              <li><strong>{result.merged.length.toLocaleString()}</strong>duplicate rows merged</li>
              <li><strong>{result.rejected.length.toLocaleString()}</strong>rows rejected</li>
              <li><strong>{result.customers.filter((c) => c.consent).length.toLocaleString()}</strong>with texting consent</li>
            </ul>
            <div className="table-scroll">
              <table>
                <caption className="visually-hidden">First customers to import</caption>
                <thead><tr><th>Row</th><th>Name</th><th>Phone</th><th>Email</th><th>Vehicles</th><th>Consent</th></tr></thead>
                <tbody>
                  {result.customers.slice(0, 10).map((c) => (
                    <tr key={c.row}>
                      <td>{c.row}{c.mergedRows.length ? ` (+${c.mergedRows.join(', ')})` : ''}</td>
                      <td>{c.name}{c.existing ? ' (existing)' : ''}</td>
                      <td>{c.phone}</td>
                      <td>{c.email ?? ''}</td>
                      <td>{c.vehicles.map((v) => v.label).join('; ')}</td>
                      <td>{c.consent ? 'Yes' : 'No'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {result.rejected.length ? <RejectedList rejected={result.rejected} headers={parsed.headers} fileName={fileName ?? 'import.csv'} /> : null}
            <Button
              onClick={runImport}
              disabled={!hasPhone || !hasName || result.customers.length === 0}
              busy={progress !== null}
              busyLabel={progress ? `Importing… ${progress.done} of ${progress.total} batches` : 'Importing…'}
            >
              Import {result.customers.length.toLocaleString()} {result.customers.length === 1 ? 'customer' : 'customers'}
            </Button>
          </section>
        </>
      ) : null}

      {report ? (
        <section className="card" aria-labelledby="report-title" role="status">
          <h2 id="report-title"><span aria-hidden="true">✓ </span>Import finished</h2>
          <ul className="import-summary">
            <li><strong>{report.created.toLocaleString()}</strong>new customers</li>
            <li><strong>{report.updated.toLocaleString()}</strong>existing customers updated</li>
            <li><strong>{report.unchanged.toLocaleString()}</strong>already up to date</li>
            <li><strong>{report.consentRecorded.toLocaleString()}</strong>consents recorded</li>
            {report.consentSkipped ? <li><strong>{report.consentSkipped.toLocaleString()}</strong>consents not recorded: the customer had opted out</li> : null}
            <li><strong>{report.rejected.length.toLocaleString()}</strong>rows rejected</li>
          </ul>
          {report.rejected.length && parsed ? <RejectedList rejected={report.rejected} headers={parsed.headers} fileName={fileName ?? 'import.csv'} /> : null}
          <ButtonLink to="/customers">See customers</ButtonLink>
        </section>
      ) : null}
    </Page>
  );
}

function RejectedList({ rejected, headers, fileName }: { rejected: Rejected[]; headers: string[]; fileName: string }) {
  const [all, setAll] = useState(false);
  const shown = all ? rejected : rejected.slice(0, 50);
  return (
    <div>
      <h3>Rejected rows ({rejected.length.toLocaleString()}) — not imported</h3>
      <ul className="ledger-list">
        {shown.map((r) => (
          <li key={`${r.row}-${r.reason}`}>
            <strong>Row {r.row}</strong>
            <span><span aria-hidden="true">⚠ </span>{r.message || REJECT_MESSAGES[r.reason]}</span>
            <span className="muted">{Object.values(r.values).join(' · ').slice(0, 120)}</span>
          </li>
        ))}
      </ul>
      <div className="row">
        {rejected.length > shown.length ? <Button variant="secondary" onClick={() => setAll(true)}>Show all {rejected.length.toLocaleString()}</Button> : null}
        <Button variant="secondary" onClick={() => downloadText(fileName.replace(/\.csv$/i, '') + '-rejected.csv', rejectedCsv(headers, rejected))}>
          Download rejected rows (CSV)
        </Button>
      </div>
    </div>
  );
}

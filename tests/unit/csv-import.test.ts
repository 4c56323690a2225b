/** The customers CSV import's pure logic: parsing, mapping, normalisation, duplicates, the report, batching. */
import { describe, expect, it } from 'vitest';
import {
  CHUNK_SIZE, CsvError, chunk, consentValue, guessMapping, normalisePhone, normaliseRecords, parseCsv, rejectedCsv, rpcBatches, toRpcRows,
} from '../../web/src/features/customers/csv.ts';

const US = { defaultCountry: 'US' };

function importText(text: string, opts: { defaultCountry: string | null; existingPhones?: Set<string> } = US) {
  const parsed = parseCsv(text);
  return { parsed, result: normaliseRecords(parsed, guessMapping(parsed.headers), opts) };
}

describe('parseCsv', () => {
  it('drops a BOM and reads comma files with quoted commas, quotes and newlines', () => {
    const text = '\uFEFFName,Phone,Notes\r\n"Silva, Victor",(312) 454-2945,"says ""hi""\nline 2"\r\nAna,312-555-0101,\r\n';
    const p = parseCsv(text);
    expect(p.headers).toEqual(['Name', 'Phone', 'Notes']);
    expect(p.delimiter).toBe(',');
    expect(p.records).toEqual([['Silva, Victor', '(312) 454-2945', 'says "hi"\nline 2'], ['Ana', '312-555-0101', '']]);
  });

  it('detects semicolons (European spreadsheets) and tabs', () => {
    const semi = parseCsv('Nom;Téléphone;E-mail\nDupont;+33 6 12 34 56 78;j@ex.fr\n');
    expect(semi.delimiter).toBe(';');
    expect(semi.records[0]).toEqual(['Dupont', '+33 6 12 34 56 78', 'j@ex.fr']);
    expect(parseCsv('Name\tPhone\nA\t3125550101\n').delimiter).toBe('\t');
  });

  it('refuses empty files and files without a header with a clear code', () => {
    expect(() => parseCsv('')).toThrow(CsvError);
    expect(() => parseCsv('\uFEFF\n\n')).toThrow(/empty/);
    expect(() => parseCsv(',,\n,,\n')).toThrow(CsvError); // only blank cells
  });
});

describe('guessMapping', () => {
  it('recognises the usual header words', () => {
    expect(guessMapping(['Customer Name', 'Cell Phone', 'Email Address', 'Vehicle', 'VIN', 'SMS Opt-in', 'Notes', 'Internal ID']))
      .toEqual(['name', 'phone', 'email', 'vehicle', 'vin', 'consent', 'notes', 'ignore']);
    expect(guessMapping(['First Name', 'Last Name', 'Mobile'])).toEqual(['first_name', 'last_name', 'phone']);
    expect(guessMapping(['Nom', 'Téléphone', 'Courriel'])).toEqual(['last_name', 'phone', 'ignore']);
  });
});

describe('normalisation', () => {
  it('formats phones to E.164 with the shop country as default, and refuses what is not a phone', () => {
    expect(normalisePhone('(312) 454-2945', 'US')).toBe('+13124542945');
    expect(normalisePhone('312.454.2945', 'US')).toBe('+13124542945');
    expect(normalisePhone('+44 20 7946 0958', 'US')).toBe('+442079460958');
    expect(normalisePhone('020 7946 0958', 'GB')).toBe('+442079460958');
    expect(normalisePhone('06 12 34 56 78', 'FR')).toBe('+33612345678');
    expect(normalisePhone('3.12454E+09', 'US')).toBeNull();
    expect(normalisePhone('555-1234', 'US')).toBeNull();
    expect(normalisePhone('call me', 'US')).toBeNull();
  });

  it('reads consent words and refuses unclear ones', () => {
    for (const y of ['yes', 'Y', 'TRUE', '1', 'x', 'opt-in', 'Opted In']) expect(consentValue(y)).toBe(true);
    for (const n of ['no', 'N', 'false', '0', '', 'opt out']) expect(consentValue(n)).toBe(false);
    expect(consentValue('maybe')).toBeNull();
  });

  it('reports EVERY rejected row with its reason, merges duplicates within the file, and flags existing customers', () => {
    const text = [
      'Name,Phone,Email,Vehicle,VIN,Consent',
      'Victor Silva,(312) 454-2945,VICTOR@example.com,2014 BMW 328i,WBA3A5C51EF123456,yes', // 1 ok
      ',312-555-0101,,,,', // 2 no name
      'No Phone,,,,,', // 3 no phone
      'Bad Phone,555-1234,,,,', // 4 invalid phone
      'Bad Mail,312-555-0102,not-mail,,,', // 5 invalid email
      'Bad Vin,312-555-0103,,Civic,IOQ123,', // 6 invalid vin
      'Unclear,312-555-0104,,,,maybe', // 7 invalid consent
      'V. Silva,+1 312 454 2945,,2019 Honda Civic,,no', // 8 duplicate of 1, another car
      'Victor S,312 454 2945,,2014 bmw 328I,,', // 9 duplicate of 1, same car (by label)
      'Returning,312-555-0199,,,,', // 10 ok, already a customer
    ].join('\n');
    const { result } = importText(text, { defaultCountry: 'US', existingPhones: new Set(['+13125550199']) });
    expect(result.total).toBe(10);
    expect(result.rejected.map((r) => [r.row, r.reason])).toEqual([
      [2, 'missing_name'], [3, 'missing_phone'], [4, 'invalid_phone'], [5, 'invalid_email'], [6, 'invalid_vin'], [7, 'invalid_consent'],
    ]);
    expect(result.merged).toEqual([{ row: 8, into: 1 }, { row: 9, into: 1 }]);
    expect(result.customers).toHaveLength(2);
    const victor = result.customers[0]!;
    expect(victor).toMatchObject({
      row: 1, name: 'Victor Silva', phone: '+13124542945', email: 'victor@example.com', consent: true, mergedRows: [8, 9], existing: false,
      vehicles: [{ label: '2014 BMW 328i', vin: 'WBA3A5C51EF123456' }, { label: '2019 Honda Civic' }],
    });
    expect(result.customers[1]).toMatchObject({ row: 10, existing: true });
    // nothing silently dropped: each row is imported, merged or rejected
    expect(result.customers.length + result.merged.length + result.rejected.length).toBe(result.total);
    expect(result.rejected[0]!.values).toMatchObject({ Phone: '312-555-0101' });
  });

  it('builds the name from first and last name columns', () => {
    const { result } = importText('First Name;Last Name;Mobile\nAna;Lopez;602 555 0101\n');
    expect(result.customers[0]).toMatchObject({ name: 'Ana Lopez', phone: '+16025550101', consent: false });
  });

  it('a malformed row (unclosed quote) is reported, not dropped', () => {
    const { result } = importText('Name,Phone\nA,3125550101\n"B,3125550102\n');
    expect(result.customers.length + result.rejected.length + result.merged.length).toBe(result.total);
    expect(result.rejected.some((r) => r.reason === 'malformed_row')).toBe(true);
  });

  it('writes the rejected rows as a CSV to fix', () => {
    const { parsed, result } = importText('Name,Phone\n,3125550101\n');
    const csv = rejectedCsv(parsed.headers, result.rejected);
    expect(csv.split(/\r?\n/)).toEqual(['Row,Reason,Name,Phone', '1,No name,,3125550101']);
  });
});

describe('10,000 rows', () => {
  it('parses, normalises and batches a 10,000-row file quickly, never splitting a customer across calls', () => {
    const lines = ['Name,Phone,Vehicle,Consent'];
    for (let i = 0; i < 10_000; i++) {
      const n = String(1000 + (i % 9000)).padStart(4, '0'); // 9,000 distinct numbers: 1,000 duplicates
      lines.push(`Customer ${i},(312) 555-${n},Car ${i % 7},${i % 2 ? 'yes' : 'no'}`);
    }
    const t0 = performance.now();
    const { result } = importText(lines.join('\n'));
    const batches = rpcBatches(result.customers);
    const ms = performance.now() - t0;
    expect(result.total).toBe(10_000);
    expect(result.customers).toHaveLength(9_000);
    expect(result.merged).toHaveLength(1_000);
    expect(result.rejected).toHaveLength(0);
    expect(ms).toBeLessThan(5_000);
    expect(batches.every((b) => b.length <= CHUNK_SIZE)).toBe(true);
    const phonesPerBatch = batches.map((b) => new Set(b.map((r) => r.phone)));
    const seen = new Set<string>();
    for (const set of phonesPerBatch) for (const p of set) { expect(seen.has(p)).toBe(false); seen.add(p); }
    expect(seen.size).toBe(9_000);
  });
});

describe('rpc rows', () => {
  it('one row per vehicle, oldest first, with email/notes/consent on the first only', () => {
    const rows = toRpcRows({ row: 3, name: 'A', phone: '+13125550101', email: 'a@x.io', notes: 'n', consent: true, mergedRows: [7], existing: false,
      vehicles: [{ label: 'New car' }, { label: 'Old car', vin: 'WBA3A5C51EF123456' }] });
    expect(rows).toEqual([
      { row: 3, name: 'A', phone: '+13125550101', consent: true, email: 'a@x.io', notes: 'n', vehicle: 'Old car', vin: 'WBA3A5C51EF123456' },
      { row: 3, name: 'A', phone: '+13125550101', consent: false, vehicle: 'New car' },
    ]);
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});

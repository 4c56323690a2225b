import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cleanName, cleanRo, cleanVehicle, findPhones, isValidVin, parseRepairOrderText, repairVin, vinCheckDigit,
} from '../../supabase/functions/_shared/ocr/index.ts';

interface Case { id: string; text: string; expect: Record<string, string | null> }
const cases = JSON.parse(readFileSync(new URL('../fixtures/repair-orders/text/cases.json', import.meta.url), 'utf8')) as Case[];

/** Every shop / office / fax / staff number printed in the fixtures. */
const SHOP_PHONES = ['+18887960950', '+16025550143', '+15125550177', '+13035550199', '+12065550100', '+12065550101', '+15125550188',
  '+19183548791', '+15128985223', '+14155550110', '+12065550160', '+16023724005', '+15128871821', '+13035550188'];

describe('parseRepairOrderText on OCR-like text fixtures', () => {
  for (const c of cases) {
    it(c.id, () => {
      const r = parseRepairOrderText(c.text);
      for (const [k, v] of Object.entries(c.expect)) {
        if (k === 'name' || k === 'vehicle') expect(r[k as 'name']?.toLowerCase() ?? null, k).toBe(v?.toLowerCase() ?? null);
        else expect(r[k as 'phone'], k).toBe(v);
      }
      for (const [k, v] of Object.entries(r.confidence)) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        if ((r as unknown as Record<string, unknown>)[k] === null) expect(v, `${k} confidence when missing`).toBe(0);
      }
    });
  }

  it('never returns the shop phone or a staff name, whatever the layout', () => {
    for (const c of cases) {
      const r = parseRepairOrderText(c.text);
      expect(SHOP_PHONES).not.toContain(r.phone);
      expect(['Andre', 'Karen Lopez', 'Raj Patel', 'Tina', 'Sofia', 'Vic', 'Dana', 'Brian Clark', 'Lena Brown', 'Ama', 'Carlos Davis', 'Carlos Young']).not.toContain(r.name);
    }
  });

  it('confidence reflects how a value was found: labelled > unlabelled, validated > not', () => {
    const labelled = parseRepairOrderText('RO 1\nCustomer: Emma Rossi\nCell: 602-866-0791');
    const unlabelled = parseRepairOrderText('ACME\n123 Main St, Phoenix, AZ 85018\nRO 1\nDate: 1/1/2026\nEmma Rossi\n602-866-0791');
    expect(unlabelled.name).toBe('Emma Rossi');
    expect(unlabelled.phone).toBe('+16028660791');
    expect(labelled.confidence.name).toBeGreaterThan(unlabelled.confidence.name);
    expect(labelled.confidence.phone).toBeGreaterThan(unlabelled.confidence.phone);
    // OCR line confidence lowers field confidence
    const lines = (conf: number) => ['RO 1', 'Customer: Emma Rossi', 'Cell: 602-866-0791'].map((text) => ({ text, confidence: conf, bbox: { x0: 0, y0: 0, x1: 100, y1: 10 } }));
    expect(parseRepairOrderText('', lines(95)).confidence.name).toBeGreaterThan(parseRepairOrderText('', lines(55)).confidence.name);
  });

  it('an empty or unrelated page gives nulls with zero confidence', () => {
    for (const t of ['', '   \n  ', 'lorem ipsum dolor sit amet\n$12.00 total']) {
      const r = parseRepairOrderText(t);
      expect(r).toMatchObject({ name: null, phone: null, vehicle: null, vin: null, ro_number: null });
      expect(Object.values(r.confidence).every((x) => x === 0)).toBe(true);
    }
  });
});

describe('field readers', () => {
  it('phones in every common US format become E.164', () => {
    for (const s of ['(602) 866-0791', '602.866.0791', '602-866-0791', '+1 602 866 0791', '6028660791', '1-602-866-0791', '+1 (602) 866-0791', '602 866 0791']) {
      expect(findPhones(`Phone: ${s}`).map((p) => p.e164), s).toEqual(['+16028660791']);
    }
    expect(findPhones('Date: 10/12/2026 Mileage: 164558')).toEqual([]);
    expect(findPhones('IMEI 356938035643809')).toEqual([]);
  });

  it('VIN check digit (ISO 3779 weights) and OCR repairs only when the check digit then validates', () => {
    expect(vinCheckDigit('1HGCM82633A004352')).toBe('3');
    expect(isValidVin('1HGCM82633A004352')).toBe(true);
    expect(isValidVin('1HGCM82643A004352')).toBe(false);
    expect(repairVin('1HGCM82633AOO4352')).toEqual({ vin: '1HGCM82633A004352', how: 'iqo' });
    expect(repairVin('IHGCM82633A004352')).toEqual({ vin: '1HGCM82633A004352', how: 'iqo' });
    expect(repairVin('1HGCM82633A0043S2')).toEqual({ vin: '1HGCM82633A004352', how: 'swapped' });
    // a European VIN without a check digit stays as read, marked invalid
    expect(repairVin('WVWZZZ1JZXW000001')).toEqual({ vin: 'WVWZZZ1JZXW000001', how: 'invalid' });
    expect(repairVin('TOO SHORT')).toBeNull();
  });

  it('names: Last, First; ALL CAPS; particles; staff-like words rejected', () => {
    expect(cleanName('ROSSI, EMMA')?.name).toBe('Emma Rossi');
    expect(cleanName("O'BRIEN SIOBHAN")?.name).toBe("O'Brien Siobhan");
    expect(cleanName('MCALLISTER JAMAL')?.name).toBe('McAllister Jamal');
    expect(cleanName('Emma Rossi 7/3/2026')?.name).toBe('Emma Rossi');
    expect(cleanName('Signature')).toBeNull();
    expect(cleanName('12345')).toBeNull();
  });

  it('vehicles and devices', () => {
    expect(cleanVehicle('2O19 Toyota Camry')?.vehicle).toBe('2019 Toyota Camry');
    expect(cleanVehicle('2021 Chevrolet Silverado 1500 127866')?.vehicle).toBe('2021 Chevrolet Silverado 1500');
    expect(cleanVehicle('iPhone 14 Pro')?.vehicle).toBe('iPhone 14 Pro');
    expect(cleanVehicle('MacBook Pro 13')?.vehicle).toBe('MacBook Pro 13');
    expect(cleanVehicle('(602) 866-0791')).toBeNull();
    expect(cleanVehicle('WRITER')).toBeNull();
  });

  it('RO numbers', () => {
    expect(cleanRo('#76510')).toBe('76510');
    expect(cleanRo('No. A-35609')).toBe('A-35609');
    expect(cleanRo('# 12553')).toBe('12553');
    expect(cleanRo('pending')).toBeNull();
  });
});

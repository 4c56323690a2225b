/**
 * NANP area code → { state/province, IANA time zone } for the US and Canada, compiled from the NANPA
 * assignments. Where a state spans two zones the zone of most of the area code's population is used (e.g. 850
 * Florida panhandle → Central, 915 El Paso → Mountain, 208 → Boise (Mountain)). Unknown or non-geographic codes
 * (800/888/…, 500, 900) are absent: callers fall back to the shop's own time zone.
 */
export interface AreaCodeInfo {
  region: string; // USPS state or Canadian province code
  zone: string; // IANA time zone
}

const E = 'America/New_York', C = 'America/Chicago', M = 'America/Denver', P = 'America/Los_Angeles';
const AZ = 'America/Phoenix', AK = 'America/Anchorage', HI = 'Pacific/Honolulu', DET = 'America/Detroit';
const IND = 'America/Indiana/Indianapolis', KY = 'America/Kentucky/Louisville', BOI = 'America/Boise';
const TOR = 'America/Toronto', WPG = 'America/Winnipeg', REG = 'America/Regina', EDM = 'America/Edmonton';
const VAN = 'America/Vancouver', HAL = 'America/Halifax', STJ = 'America/St_Johns', WHS = 'America/Whitehorse';
const YK = 'America/Yellowknife', IQ = 'America/Iqaluit', PR = 'America/Puerto_Rico', GU = 'Pacific/Guam';

const TABLE: Array<[string, string, string]> = [
  ['AL', C, '205 251 256 334 659 938'],
  ['AK', AK, '907'],
  ['AZ', AZ, '480 520 602 623 928'],
  ['AR', C, '327 479 501 870'],
  ['CA', P, '209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 657 661 669 707 714 747 760 805 818 820 831 840 858 909 916 925 949 951'],
  ['CO', M, '303 719 720 970 983'],
  ['CT', E, '203 475 860 959'],
  ['DE', E, '302'],
  ['DC', E, '202 771'],
  ['FL', E, '239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 863 904 941 954'],
  ['FL', C, '850'],
  ['GA', E, '229 404 470 478 678 706 762 770 912 943'],
  ['HI', HI, '808'],
  ['ID', BOI, '208 986'],
  ['IL', C, '217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 861 872'],
  ['IN', IND, '317 463 574 765 260'],
  ['IN', C, '219 812 930'],
  ['IA', C, '319 515 563 641 712'],
  ['KS', C, '316 620 785 913'],
  ['KY', KY, '502 606 859'],
  ['KY', C, '270 364'],
  ['LA', C, '225 318 337 504 985'],
  ['ME', E, '207'],
  ['MD', E, '227 240 301 410 443 667'],
  ['MA', E, '339 351 413 508 617 774 781 857 978'],
  ['MI', DET, '231 248 269 313 517 586 616 679 734 810 947 989'],
  ['MI', C, '906'],
  ['MN', C, '218 320 507 612 651 763 952'],
  ['MS', C, '228 601 662 769'],
  ['MO', C, '235 314 417 557 573 636 660 816 975'],
  ['MT', M, '406'],
  ['NE', C, '402 531'],
  ['NE', M, '308'],
  ['NV', P, '702 725 775'],
  ['NH', E, '603'],
  ['NJ', E, '201 551 609 640 732 848 856 862 908 973'],
  ['NM', M, '505 575'],
  ['NY', E, '212 315 329 332 347 363 516 518 585 607 624 631 646 680 716 718 838 845 914 917 929 934'],
  ['NC', E, '252 336 472 704 743 828 910 919 980 984'],
  ['ND', C, '701'],
  ['OH', E, '216 220 234 283 326 330 380 419 436 440 513 567 614 740 937'],
  ['OK', C, '405 539 572 580 918'],
  ['OR', P, '458 503 541 971'],
  ['PA', E, '215 223 267 272 412 445 484 570 582 610 717 724 814 835 878'],
  ['RI', E, '401'],
  ['SC', E, '803 821 839 843 854 864'],
  ['SD', C, '605'],
  ['TN', C, '615 629 731 901 931'],
  ['TN', E, '423 865'],
  ['TX', C, '210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 903 936 940 945 956 972 979'],
  ['TX', M, '915'],
  ['UT', M, '385 435 801'],
  ['VT', E, '802'],
  ['VA', E, '276 434 540 571 686 703 757 804 826 948'],
  ['WA', P, '206 253 360 425 509 564'],
  ['WV', E, '304 681'],
  ['WI', C, '262 274 353 414 534 608 715 920'],
  ['WY', M, '307'],
  ['PR', PR, '787 939'],
  ['VI', PR, '340'],
  ['GU', GU, '671'],
  ['MP', GU, '670'],
  ['AS', 'Pacific/Pago_Pago', '684'],
  // Canada
  ['AB', EDM, '368 403 587 780 825'],
  ['BC', VAN, '236 250 257 604 672 778'],
  ['MB', WPG, '204 431 584'],
  ['NB', HAL, '428 506'],
  ['NL', STJ, '709 879'],
  ['NS', HAL, '782 902'],
  ['PE', HAL, ''],
  ['ON', TOR, '226 249 289 343 365 382 416 437 519 548 647 683 705 742 753 807 905 942'],
  ['QC', TOR, '263 354 367 418 438 450 468 514 579 581 819 873'],
  ['SK', REG, '306 474 639'],
  ['YT', WHS, ''],
  ['NT', YK, ''],
  ['NU', IQ, ''],
  // Yukon, Northwest Territories and Nunavut share 867 (most people: Whitehorse and Yellowknife).
  ['YT', WHS, '867'],
];

const MAP = new Map<string, AreaCodeInfo>();
for (const [region, zone, codes] of TABLE) {
  for (const code of codes.split(' ')) if (code) MAP.set(code, { region, zone });
}

/** The area code's region and zone, or null (not a US/Canada geographic code). */
export function areaCodeInfo(areaCode: string): AreaCodeInfo | null {
  return MAP.get(areaCode) ?? null;
}

/** Region and zone of an E.164 NANP number (+1NPANXXXXXX), or null. */
export function lookupNanp(e164: string): AreaCodeInfo | null {
  const m = /^\+1([2-9][0-9]{2})[2-9][0-9]{6}$/.exec(e164);
  return m ? areaCodeInfo(m[1]!) : null;
}

export const AREA_CODE_COUNT = MAP.size;
